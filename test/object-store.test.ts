import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ObjectStore } from '../node_app/server/adapters/storage/object-store.js';
import { loadConfig } from '../node_app/server/config.js';
import { startBackingServices, type BackingServices } from './helpers/backing-services.js';

describe('object storage (S3 API, against s3rver)', () => {
  let backing: BackingServices;
  let store: ObjectStore;
  let dir: string;
  beforeAll(async () => {
    backing = await startBackingServices();
    store = new ObjectStore(loadConfig({ ...backing.env }).objectStore!);
    dir = await mkdtemp(path.join(os.tmpdir(), 'enricher-store-'));
  });
  afterAll(async () => {
    store?.close();
    await backing?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('a file larger than one upload part comes back byte for byte, whole and as a range', async () => {
    const bytes = randomBytes(9 * 1024 * 1024 + 123);
    await writeFile(path.join(dir, 'in'), bytes);
    await store.putFile('jobs/a/input', path.join(dir, 'in'));
    expect(await store.getFile('jobs/a/input', path.join(dir, 'out'))).toBe(true);
    expect((await readFile(path.join(dir, 'out'))).equals(bytes)).toBe(true);

    const part = await store.get('jobs/a/input', 'bytes=100-199');
    const chunks: Buffer[] = [];
    for await (const chunk of part!.body) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).equals(bytes.subarray(100, 200))).toBe(true);
    expect(part!.contentRange).toBe(`bytes 100-199/${bytes.length}`);
  });

  it('a missing bucket is named, not reported as UnknownError; the app can create it', async () => {
    const config = loadConfig({ ...backing.env, S3_BUCKET: 'not-made-yet' }).objectStore!;
    const missing = new ObjectStore(config);
    try {
      await expect(missing.check()).rejects.toThrow(`the bucket "not-made-yet" does not exist at ${backing.env.S3_ENDPOINT}: create it (npm run bucket:create)`);
      expect(await missing.createBucket()).toBe(true);
      await missing.check();
      // Creating it again is harmless.
      expect(await missing.createBucket()).toBe(false);
    } finally {
      missing.close();
    }
  });

  it('removing a prefix removes every object under it and nothing else', async () => {
    await writeFile(path.join(dir, 'small'), 'x');
    for (const key of ['jobs/b/input', 'jobs/b/result.wav', 'jobs/c/input']) await store.putFile(key, path.join(dir, 'small'));
    await store.removePrefix('jobs/b/');
    expect(await store.exists('jobs/b/input')).toBe(false);
    expect(await store.get('jobs/b/result.wav')).toBeNull();
    expect(await store.exists('jobs/c/input')).toBe(true);
  });
});
