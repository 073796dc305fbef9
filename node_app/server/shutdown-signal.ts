import type { Logger } from './logger.js';

/**
 * Runs `stop` once, on the first SIGTERM or SIGINT, then exits 0. Heroku SIGKILLs 30 s after its SIGTERM: past
 * `deadlineMs` something is stuck, and the process exits 1 on its own terms (and says so) before that.
 */
export function onShutdownSignal(logger: Logger, deadlineMs: number, stop: (signal: string) => Promise<void>): { readonly stopping: boolean } {
  const state = { stopping: false };
  const shutdown = async (signal: string): Promise<void> => {
    if (state.stopping) return;
    state.stopping = true;
    const started = Date.now();
    setTimeout(() => {
      logger.error({ signal }, 'shutdown took too long; exiting anyway');
      logger.flush();
      process.exit(1);
    }, deadlineMs).unref();
    await stop(signal);
    logger.info({ ms: Date.now() - started }, 'bye');
    await new Promise<void>((resolve) => logger.flush(() => resolve()));
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  return state;
}
