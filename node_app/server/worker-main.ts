import { startHeapTrimmer } from './adapters/memory/heap-trimmer.js';
import { createWorkerServices } from './compose.js';
import { loadConfigOrExit } from './config.js';
import { createLogger } from './logger.js';
import { onShutdownSignal } from './shutdown-signal.js';

// The `worker:` process of distributed mode: takes jobs from the shared queue and runs them with the same job
// service, engine and inference pool as the web process of embedded mode. It serves no HTTP.
const config = loadConfigOrExit();
const logger = createLogger(config.logLevel);
if (!config.redis) {
  logger.fatal('the worker process needs REDIS_URL (and object storage); without it the web process does everything itself');
  await new Promise<void>((resolve) => logger.flush(() => resolve()));
  process.exit(1);
}
// Heroku sends SIGTERM and kills the dyno 30 s later: a job still running after the grace goes back to the queue.
const SHUTDOWN_GRACE_MS = config.shutdownGraceMs;
const SHUTDOWN_DEADLINE_MS = SHUTDOWN_GRACE_MS + 3_000;
const { ffmpeg, models, jobs } = await createWorkerServices(config, logger);
if (ffmpeg.fallbackReason) logger.warn({ reason: ffmpeg.fallbackReason }, 'falling back to the bundled ffmpeg');

const shutdown = onShutdownSignal(logger, SHUTDOWN_DEADLINE_MS, async (signal) => {
  logger.info({ signal, activeJobs: jobs.activeCount }, 'worker shutting down');
  // The worker stops taking jobs at once; the one running finishes within the grace or goes back to the queue.
  await jobs.shutdown(SHUTDOWN_GRACE_MS);
  await models.close();
});

await models.start();
if (models.state.status !== 'ready') {
  logger.fatal('the models could not be loaded; this worker takes no jobs');
  await new Promise<void>((resolve) => logger.flush(() => resolve()));
  process.exit(1);
}
if (!shutdown.stopping) {
  jobs.start();
  startHeapTrimmer({ logger });
  logger.info({ concurrency: config.workers }, 'worker taking jobs');
}
