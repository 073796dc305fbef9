import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { makeClip } from './helpers/audio.js';
import { filesUnder } from './helpers/files.js';
import { startProcessServer } from './helpers/process-server.js';
import { START_LIMIT_MS } from './helpers/processes.js';

describe('SIGTERM with songs in the queue and one running', () => {
  it('queued songs are refused at once, the running one when the grace ends: 503 SHUTTING_DOWN, no files left', async () => {
    // Long enough that the running one cannot finish within the grace, however idle the machine: model v4.0.0
    // finished a 5-minute mono song within a 2-s grace here (the bench's 3-min mono WAV takes 1.5 s over HTTP), so
    // the song is nearly the longest allowed (53 MB of WAV) and the grace 1 s.
    const clip = await readFile(await makeClip({ seconds: 590, sampleRate: 44100, channels: 1, extension: 'wav' }));
    const server = await startProcessServer({ SHUTDOWN_GRACE_S: '1', MAX_UPLOAD_MB: '100' });
    try {
      const answers = [0, 1, 2].map(async () => {
        const form = new FormData();
        form.append('audio', new Blob([new Uint8Array(clip)]), 'long.wav');
        const res = await fetch(`${server.base}/api/enrich`, { method: 'POST', body: form });
        const body = res.headers.get('content-type')?.startsWith('application/json') ? ((await res.json()) as { error: { code: string } }) : null;
        return { at: Date.now(), status: res.status, code: body?.error.code, retryAfter: res.headers.get('retry-after') };
      });
      // One job is writing its result, two wait behind it (WORKERS=1).
      const deadline = Date.now() + 30_000;
      for (;;) {
        const files = await filesUnder(server.dataDir);
        if (files.filter((f) => f.endsWith('/input')).length === 3 && files.some((f) => f.endsWith('result.wav'))) break;
        expect(Date.now()).toBeLessThan(deadline);
        await sleep(20);
      }
      const signalled = Date.now();
      server.child.kill('SIGTERM');
      const results = (await Promise.all(answers)).sort((a, b) => a.at - b.at);
      const exit = await server.exited;

      for (const result of results) expect(result).toMatchObject({ status: 503, code: 'SHUTTING_DOWN', retryAfter: expect.any(String) });
      // The queued two are not started during the grace only to be killed: they are answered at once.
      expect(results[1].at - signalled).toBeLessThan(750);
      expect(results[2].at - signalled).toBeGreaterThanOrEqual(750);
      expect(exit.code).toBe(0);
      expect(await filesUnder(server.dataDir)).toEqual([]);
    } finally {
      await server.stop();
    }
  }, START_LIMIT_MS + 120_000);
});
