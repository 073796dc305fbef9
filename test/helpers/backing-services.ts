import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import S3rver from 's3rver';
import { freePort } from '../../node_app/server/deploy/boot-probe.js';

export interface BackingServices {
  /** The environment that puts the app in distributed mode against these two. */
  env: Record<string, string>;
  redisUrl: string;
  close(): Promise<void>;
}

/**
 * What Heroku's add-ons provide, on this machine: Debian's redis-server on a free 127.0.0.1 port (no disk
 * persistence) and s3rver, an S3-compatible server, in this process, with `bucket` made. Both start empty and
 * are removed by `close`.
 */
export async function startBackingServices(bucket = 'enricher-test'): Promise<BackingServices> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'enricher-backing-'));
  const redisPort = await freePort();
  const redis = spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], {
    stdio: 'ignore',
  });
  const redisUrl = `redis://127.0.0.1:${redisPort}`;
  const s3 = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: path.join(dir, 's3'), configureBuckets: [{ name: bucket }] });
  try {
    await waitForRedis(redisUrl);
    const { port } = await s3.run();
    return {
      redisUrl,
      env: {
        REDIS_URL: redisUrl,
        S3_BUCKET: bucket,
        S3_ENDPOINT: `http://127.0.0.1:${port}`,
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'S3RVER',
        AWS_SECRET_ACCESS_KEY: 'S3RVER',
      },
      async close() {
        redis.kill('SIGKILL');
        await s3.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    redis.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

async function waitForRedis(url: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    // Refused connections while redis-server starts are expected; `connect` rejects with them.
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.ping();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    } finally {
      client.disconnect();
    }
  }
}
