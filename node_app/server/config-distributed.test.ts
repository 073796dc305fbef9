import { describe, expect, it } from 'vitest';
import { redisOptions } from './adapters/queue/redis.js';
import { loadConfig } from './config.js';

const s3 = { S3_BUCKET: 'songs', AWS_ACCESS_KEY_ID: 'id', AWS_SECRET_ACCESS_KEY: 'secret' };

describe('where jobs live: the queue and the file storage', () => {
  it('stays embedded without REDIS_URL, whatever else is set: jobs in memory, files on local disk', () => {
    for (const config of [loadConfig({ ...s3 }), loadConfig({ REDIS_URL: '  ' })]) {
      expect(config.redis).toBeUndefined();
      expect(config.fileStorage).toBe('local');
      expect(config.objectStore).toBeUndefined();
    }
  });

  it('needs a bucket and its credentials with REDIS_URL, and says which variable is missing', () => {
    expect(() => loadConfig({ REDIS_URL: 'redis://localhost:6379', S3_BUCKET: 'songs' })).toThrow(
      /AWS_ACCESS_KEY_ID \(or BUCKETEER_AWS_ACCESS_KEY_ID\): is required when REDIS_URL is set/,
    );
    expect(() => loadConfig({ REDIS_URL: 'http://localhost', ...s3 })).toThrow(/REDIS_URL: must be a redis:\/\/ or rediss:\/\/ URL/);
  });

  it('chooses the file storage apart from the queue: S3 without REDIS_URL, never local disk with it', () => {
    expect(loadConfig({ FILE_STORAGE: 's3', ...s3 })).toMatchObject({ redis: undefined, fileStorage: 's3', objectStore: { bucket: 'songs' } });
    expect(() => loadConfig({ FILE_STORAGE: 's3', S3_BUCKET: 'songs' })).toThrow(/AWS_ACCESS_KEY_ID .*FILE_STORAGE=s3/);
    expect(() => loadConfig({ REDIS_URL: 'redis://localhost:6379', FILE_STORAGE: 'local', ...s3 })).toThrow(/FILE_STORAGE: must be s3 when REDIS_URL is set/);
    expect(() => loadConfig({ FILE_STORAGE: 'ftp' })).toThrow(/FILE_STORAGE: must be one of local, s3/);
  });

  it('reads the Bucketeer add-on\'s variables, the plain ones winning where both are set', () => {
    const config = loadConfig({
      REDIS_URL: 'rediss://:pw@example.com:6380',
      BUCKETEER_BUCKET_NAME: 'bucketeer-1',
      BUCKETEER_AWS_ACCESS_KEY_ID: 'bid',
      BUCKETEER_AWS_SECRET_ACCESS_KEY: 'bsecret',
      BUCKETEER_AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'mine',
    });
    expect(config.redis).toEqual({ url: 'rediss://:pw@example.com:6380', lockMs: 30_000 });
    expect(config.fileStorage).toBe('s3');
    expect(config.objectStore).toEqual({ bucket: 'bucketeer-1', region: 'eu-west-1', accessKeyId: 'mine', secretAccessKey: 'bsecret', endpoint: undefined });
  });

  it('connects to rediss:// with TLS but without verifying Heroku\'s self-signed certificate', () => {
    expect(redisOptions('rediss://user:p%40ss@kv.example.com:6380/2')).toMatchObject({
      host: 'kv.example.com',
      port: 6380,
      username: 'user',
      password: 'p@ss',
      db: 2,
      tls: { rejectUnauthorized: false },
    });
    expect(redisOptions('redis://127.0.0.1:6379').tls).toBeUndefined();
  });
});
