import os from 'node:os';
import { startHeapTrimmer } from './adapters/memory/heap-trimmer.js';
import { createApp } from './app.js';
import { createServices } from './compose.js';
import { loadConfigOrExit } from './config.js';
import { createLogger } from './logger.js';
import { onShutdownSignal } from './shutdown-signal.js';

const config = loadConfigOrExit();
// Heroku sends SIGTERM and kills the dyno 30 s later; finishing work within the grace leaves time to exit cleanly.
const SHUTDOWN_GRACE_MS = config.shutdownGraceMs;
const SHUTDOWN_DEADLINE_MS = SHUTDOWN_GRACE_MS + 3_000;
const logger = createLogger(config.logLevel);
const { ffmpeg, files, models, jobs, batches, readiness, codec, rateLimitStore } = await createServices(config, logger);
if (ffmpeg.fallbackReason) logger.warn({ reason: ffmpeg.fallbackReason }, 'falling back to the bundled ffmpeg');

const server = createApp({ config, logger, files, models, jobs, batches, readiness, rateLimitStore }).listen(config.port, () => {
  // One line a person can act on among the JSON: where to point a browser, a phone's included.
  logger.info({ port: config.port }, `listening on ${listeningUrls(config.port).join(' and ')}`);
  // Bind first, load later: Heroku gives a dyno 60 s to bind $PORT.
  void models.start();
  jobs.start();
  jobs.startSweeper();
  startHeapTrimmer({ logger });
  // Which build decodes strangers' files, and how old it is, belongs in the log of every start.
  void codec.ffmpegVersion().then(
    (version) => logger.info({ ffmpeg: ffmpeg.path, source: ffmpeg.source, version }, 'using ffmpeg'),
    (error: unknown) => logger.error({ ffmpeg: ffmpeg.path, source: ffmpeg.source, err: error }, 'ffmpeg does not run'),
  );
});
const serverClosed = new Promise<void>((resolve) => server.once('close', resolve));

onShutdownSignal(logger, SHUTDOWN_DEADLINE_MS, async (signal) => {
  const started = Date.now();
  logger.info({ signal, activeJobs: jobs.activeCount }, 'shutting down');
  server.close();
  // Idle keep-alive sockets would otherwise hold the server open until they time out.
  server.closeIdleConnections();
  await jobs.shutdown(SHUTDOWN_GRACE_MS);
  // Finished jobs may still be streaming their audio or a last progress event; give those what grace is left,
  // and at least a moment for the 503s of jobs cut at the grace to reach their clients.
  const left = Math.max(1000, SHUTDOWN_GRACE_MS - (Date.now() - started));
  await Promise.race([serverClosed, new Promise((resolve) => setTimeout(resolve, left).unref())]);
  server.closeAllConnections();
  await models.close();
});

function listeningUrls(port: number): string[] {
  const lan = Object.values(os.networkInterfaces())
    .flat()
    .filter((address) => address !== undefined && address.family === 'IPv4' && !address.internal)
    .map((address) => `http://${address!.address}:${port}`);
  return [`http://localhost:${port}`, ...lan];
}
