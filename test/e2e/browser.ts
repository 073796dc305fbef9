import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';

/** Debian's Chromium (installed by .ci/run); CHROMIUM_PATH points elsewhere. */
export function chromiumPath(): string {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter((p): p is string => Boolean(p));
  const found = candidates.find((p) => existsSync(p));
  if (found) return found;
  try {
    return execFileSync('sh', ['-c', 'command -v chromium || command -v chromium-browser'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error('Chromium is needed for the browser tests: apt-get install -y chromium (or set CHROMIUM_PATH).');
  }
}

/** A name for the server as a phone on the LAN would reach it: not localhost, plain http. */
export const LAN_HOST = 'enricher.test';

export interface WebStack {
  base: string;
  /** The same server at http://enricher.test:<port>/, which Chromium resolves to 127.0.0.1. */
  lanBase: string;
  server: TestServer;
  browser: Browser;
  close(): Promise<void>;
}

/**
 * The front end built from the current sources, served by the real app (real ffmpeg, real models) on
 * 127.0.0.1, and a Chromium whose microphone is Chromium's fake device.
 */
export async function startWebStack(): Promise<WebStack> {
  const webDir = await mkdtemp(path.join(os.tmpdir(), 'enricher-web-'));
  // Vitest sets NODE_ENV=test, which makes Vite bundle React's development build; people get production's.
  const nodeEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  try {
    await build({
      configFile: path.resolve('node_app/web/vite.config.ts'),
      logLevel: 'warn',
      build: { outDir: webDir, emptyOutDir: true },
    });
  } finally {
    process.env.NODE_ENV = nodeEnv;
  }
  const server = await startTestServer({ WEB_DIR: webDir });
  const listener = http.createServer(server.app).listen(0, '127.0.0.1');
  await new Promise((resolve) => listener.once('listening', resolve));
  const base = `http://127.0.0.1:${(listener.address() as AddressInfo).port}`;
  const browser = await chromium.launch({
    executablePath: chromiumPath(),
    args: [
      '--use-fake-device-for-media-stream',
      '--use-fake-ui-for-media-stream',
      '--autoplay-policy=no-user-gesture-required',
      // The browser treats a name that is not localhost as an ordinary insecure origin, as a phone would.
      `--host-resolver-rules=MAP ${LAN_HOST} 127.0.0.1`,
    ],
  });
  return {
    base,
    lanBase: base.replace('127.0.0.1', LAN_HOST),
    server,
    browser,
    async close() {
      await browser.close();
      // Open event streams would keep close() waiting forever.
      const closed = new Promise((resolve) => listener.close(resolve));
      listener.closeAllConnections();
      await closed;
      await server.close();
    },
  };
}

/**
 * The web stack of a test file: started before its tests (Vite build, server, Chromium) and closed after them.
 * The object is filled in by the file's first `beforeAll`, so hooks registered after this call can use it.
 */
export function useWebStack(): WebStack {
  const stack = {} as WebStack;
  beforeAll(async () => {
    Object.assign(stack, await startWebStack());
  }, 180_000);
  afterAll(async () => {
    await stack.close?.();
  });
  return stack;
}
