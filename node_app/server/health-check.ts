import path from 'node:path';
import { freePort, startServer, waitForStatus, webCommand } from './deploy/boot-probe.js';

/**
 * app.json's postdeploy script: on a one-off dyno with the new slug, start the Procfile's web command on a
 * free port and check that it binds, loads its models and exits cleanly on SIGTERM. A failure here fails the
 * Heroku Button or review app instead of leaving a broken app that looks deployed.
 */
const root = process.cwd();
const port = await freePort();
const server = startServer(webCommand(path.join(root, 'Procfile')), root, { ...process.env, PORT: String(port), DATA_DIR: path.join(root, 'data-health-check') });
try {
  // Heroku's own limit for binding $PORT is 60 s.
  const healthMs = await waitForStatus(server, `http://127.0.0.1:${port}/healthz`, 200, 60_000);
  const readyMs = await waitForStatus(server, `http://127.0.0.1:${port}/readyz`, 200, 60_000);
  server.child.kill('SIGTERM');
  const exit = await server.exited;
  if (exit.code !== 0) throw new Error(`exit code ${exit.code} after SIGTERM`);
  console.log(`health check passed: /healthz after ${healthMs} ms, /readyz after ${readyMs} ms, clean exit on SIGTERM`);
} catch (error) {
  server.child.kill('SIGKILL');
  console.error(`health check failed: ${error instanceof Error ? error.message : String(error)}`);
  console.error(server.output.slice(-20).join('\n'));
  process.exit(1);
}
