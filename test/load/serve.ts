import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { startTestServer } from '../helpers/server.js';

/**
 * The real app for the load test, in its own process so its event loop is not the load generator's. Listens
 * on 127.0.0.1 only, prints where it is as one JSON line, and stops on SIGTERM.
 */
const server = await startTestServer({
  WORKERS: process.env.WORKERS ?? String(Math.max(1, Math.min(2, os.availableParallelism()))),
  RATE_LIMIT_PER_MIN: '1000000',
  LOG_LEVEL: 'warn',
});
const listener = http.createServer(server.app).listen(0, '127.0.0.1', () => {
  const { port } = listener.address() as AddressInfo;
  process.stdout.write(
    `${JSON.stringify({ port, dataDir: server.files.dataDir, workers: server.config.workers, maxQueue: server.config.maxQueue })}\n`,
  );
});

process.on('message', (message) => {
  if (message !== 'files') return;
  void server.dataFiles().then((files) => process.send?.({ files }));
});
process.on('SIGTERM', () => {
  listener.close();
  listener.closeAllConnections();
  void server.close().then(() => process.exit(0));
});
