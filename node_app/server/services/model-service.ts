import { errors } from '../../contract/index.js';
import { InferencePool, type EnrichHooks, type EnrichRequest, type PcmInput } from '../adapters/inference/inference-pool.js';
import type { BankReader } from '../adapters/inference/bank-reader.js';
import { BankCache } from '../adapters/inference/bank-cache.js';
import { loadManifest, type LoadedManifest } from '../adapters/inference/manifest.js';
import type { Logger } from '../logger.js';
import { StyleCatalog } from './style-catalog.js';

export type ModelState =
  | { status: 'loading' }
  | { status: 'ready'; version: string; styles: number }
  | { status: 'failed'; message: string };

/**
 * Owns the models' life cycle. `start()` runs after the port is bound (Heroku allows 60 s to bind, and
 * loading sessions takes a while), and until it has finished the API answers 503 instead of waiting.
 */
export class ModelService {
  private manifest: LoadedManifest | null = null;
  private styleCatalog: StyleCatalog | null = null;
  private pool: InferencePool | null = null;
  private failure: string | null = null;

  /**
   * `workers`: inference workers for a process that runs jobs, `banks`, which decodes the banks'
   * recordings for them (bankFileReader), and `banksDir`, a private folder for the decoded samples; a process that runs none (a web process of the distributed mode)
   * loads the style list only.
   */
  constructor(
    private readonly modelsDir: string,
    private readonly logger: Logger,
    private readonly inference?: { workers: number; banks: BankReader; banksDir: () => string },
  ) {}

  async start(): Promise<void> {
    try {
      this.manifest = await loadManifest(this.modelsDir);
      this.styleCatalog = new StyleCatalog(this.manifest.styles, this.manifest.defaultStyle, this.manifest.sampleRate);
      if (this.inference) {
        const banks = new BankCache(this.manifest, this.inference.banks, this.inference.banksDir);
        await banks.check();
        this.pool = new InferencePool(this.modelsDir, banks, this.inference.workers, this.logger);
        await this.pool.ready;
      }
      this.logger.info({ version: this.manifest.version, styles: this.manifest.styles.length, workers: this.inference?.workers ?? 0 }, 'models ready');
    } catch (error) {
      this.failure = error instanceof Error ? error.message : String(error);
      this.logger.error({ err: error }, 'models could not be loaded');
    }
  }

  get state(): ModelState {
    if (this.failure) return { status: 'failed', message: this.failure };
    if (this.manifest && (!this.inference || this.pool?.state.status === 'ready')) {
      return { status: 'ready', version: this.manifest.version, styles: this.manifest.styles.length };
    }
    return { status: 'loading' };
  }

  catalog(): StyleCatalog {
    this.assertReady();
    return this.styleCatalog!;
  }

  /** The enriched song, slice by slice, as the input's slices are decoded. */
  enrich(input: PcmInput, request: EnrichRequest, hooks: EnrichHooks): AsyncGenerator<Float32Array[]> {
    this.assertReady();
    if (!this.pool) throw new Error('this process has no inference workers');
    return this.pool.enrichStream(input, request, hooks);
  }

  async close(): Promise<void> {
    await this.pool?.close();
  }

  private assertReady(): void {
    const state = this.state;
    if (state.status === 'failed') {
      throw errors.modelsUnavailable();
    }
    if (state.status === 'loading') {
      throw errors.modelsLoading();
    }
  }
}
