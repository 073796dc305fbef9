import type { AudioCodec } from '../adapters/media/audio-codec.js';
import type { FileStore } from '../adapters/storage/file-store.js';
import type { Models } from './models.js';

export interface ReadinessReport {
  ready: boolean;
  /** Each thing a job needs: "ok", or why not. */
  checks: { models: string; ffmpeg: string; dataDir: string } & Record<string, string>;
}

/** Something else a job needs, by name (distributed mode: "redis", "objectStorage"); it throws when unavailable. */
export type ReadinessProbe = () => Promise<void>;

/** Results are reused this long: readiness is polled, and each look runs ffmpeg and writes a file. */
const CACHE_MS = 5_000;
const PROBE_TIMEOUT_MS = 3_000;

/**
 * Ready means a job can run end to end: the models are loaded, ffmpeg starts, and the data dir takes files.
 * A server that answers /healthz but has lost its ffmpeg or its disk is not ready.
 */
export class Readiness {
  private cached: { at: number; report: Promise<{ ffmpeg: string; dataDir: string } & Record<string, string>> } | null = null;

  constructor(
    private readonly models: Pick<Models, 'state'>,
    private readonly codec: AudioCodec,
    private readonly files: FileStore,
    private readonly probes: Record<string, ReadinessProbe> = {},
  ) {}

  async check(): Promise<ReadinessReport> {
    const state = this.models.state;
    const now = Date.now();
    if (!this.cached || now - this.cached.at > CACHE_MS) this.cached = { at: now, report: this.probe() };
    const report = await this.cached.report;
    const models = state.status === 'ready' ? 'ok' : state.status === 'failed' ? state.message : 'loading';
    const checks = { models, ...report };
    return { ready: Object.values(checks).every((check) => check === 'ok'), checks };
  }

  private async probe(): Promise<{ ffmpeg: string; dataDir: string } & Record<string, string>> {
    const others = Object.entries(this.probes).map(([name, probe]) =>
      // A service that is down may not refuse at once (a client retrying its connection): silence is an answer too.
      Promise.race([probe(), new Promise((_, reject) => setTimeout(() => reject(new Error('does not answer within 3 s')), PROBE_TIMEOUT_MS).unref())]).then(
        () => [name, 'ok'] as const,
        (error: unknown) => [name, `${name}: ${error instanceof Error ? error.message : String(error)}`] as const,
      ),
    );
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
    return { ffmpeg, dataDir, ...Object.fromEntries(await Promise.all(others)) };
  }
}
