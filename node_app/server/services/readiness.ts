import type { AudioCodec } from '../adapters/audio-codec.js';
import type { FileStore } from '../adapters/file-store.js';
import type { Models } from './models.js';

export interface ReadinessReport {
  ready: boolean;
  /** Each thing a job needs: "ok", or why not. */
  checks: { models: string; ffmpeg: string; dataDir: string };
}

/** Results are reused this long: readiness is polled, and each look runs ffmpeg and writes a file. */
const CACHE_MS = 5_000;

/**
 * Ready means a job can run end to end: the models are loaded, ffmpeg starts, and the data dir takes files.
 * A server that answers /healthz but has lost its ffmpeg or its disk is not ready.
 */
export class Readiness {
  private cached: { at: number; report: Promise<{ ffmpeg: string; dataDir: string }> } | null = null;

  constructor(
    private readonly models: Pick<Models, 'state'>,
    private readonly codec: AudioCodec,
    private readonly files: FileStore,
  ) {}

  async check(): Promise<ReadinessReport> {
    const state = this.models.state;
    const now = Date.now();
    if (!this.cached || now - this.cached.at > CACHE_MS) this.cached = { at: now, report: this.probe() };
    const { ffmpeg, dataDir } = await this.cached.report;
    const models = state.status === 'ready' ? 'ok' : state.status === 'failed' ? state.message : 'loading';
    return { ready: models === 'ok' && ffmpeg === 'ok' && dataDir === 'ok', checks: { models, ffmpeg, dataDir } };
  }

  private async probe(): Promise<{ ffmpeg: string; dataDir: string }> {
    const [ffmpeg, dataDir] = await Promise.all([
      this.codec.ffmpegVersion().then(
        () => 'ok',
        (error: unknown) => `ffmpeg does not run: ${error instanceof Error ? error.message : String(error)}`,
      ),
      this.files.checkWritable().then(
        () => 'ok',
        (error: unknown) => `the data dir is not writable: ${error instanceof Error ? error.message : String(error)}`,
      ),
    ]);
    return { ffmpeg, dataDir };
  }
}
