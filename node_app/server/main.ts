import { createAudioCodec } from './adapters/audio-codec.js';
import { resolveFfmpeg } from './adapters/ffmpeg.js';
import { FileStore } from './adapters/file-store.js';
import { createApp } from './app.js';
import { loadConfig } from './config.js';
import { createLogger } from './logger.js';
import { JobService } from './services/job-service.js';
import { ModelService } from './services/model-service.js';

// Heroku sends SIGTERM and kills the dyno 30 s later; finishing work within 25 s leaves time to exit cleanly.
const SHUTDOWN_GRACE_MS = 25_000;

const config = loadConfig();
const logger = createLogger(config.logLevel);
const ffmpeg = resolveFfmpeg(config.ffmpegPath);
logger.info({ ffmpeg: ffmpeg.path, source: ffmpeg.source }, 'using ffmpeg');

const files = new FileStore(config.dataDir);
await files.reset();
const models = new ModelService(config.modelsDir, config.workers, logger);
const jobs = new JobService({
  codec: createAudioCodec(ffmpeg.path, config.ffmpegTimeoutMs),
  models,
  files,
  logger,
  concurrency: config.workers,
  maxQueue: config.maxQueue,
  maxDurationSeconds: config.maxDurationSeconds,
  ttlMs: config.resultTtlMs,
  minFreeBytes: config.minFreeDiskBytes,
});

const server = createApp({ config, logger, files, models, jobs }).listen(config.port, () => {
  logger.info({ port: config.port }, 'listening');
  // Bind first, load later: Heroku gives a dyno 60 s to bind $PORT.
  void models.start();
  jobs.startSweeper();
});

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'shutting down');
  server.close();
  await jobs.shutdown(SHUTDOWN_GRACE_MS);
  await models.close();
  server.closeAllConnections();
  logger.info('bye');
  logger.flush();
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
