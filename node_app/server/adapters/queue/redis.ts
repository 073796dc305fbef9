import { Redis } from 'ioredis';

/** Connection settings, as both ioredis and BullMQ take them. */
export type RedisConnectionOptions = {
  host: string;
  port: number;
  username?: string;
  password?: string;
  db?: number;
  tls?: { rejectUnauthorized: boolean };
  maxRetriesPerRequest: null;
};

/**
 * ioredis options from a redis:// or rediss:// URL. Heroku Key-Value Store serves TLS with a self-signed
 * certificate that no CA vouches for, so the connection is encrypted but the certificate is not verified
 * (Heroku's own guidance); the URL and its password are what Heroku hands the app through its config.
 */
export function redisOptions(url: string): RedisConnectionOptions {
  const parsed = new URL(url);
  return {
    host: parsed.hostname,
    port: Number(parsed.port || 6379),
    username: parsed.username ? decodeURIComponent(parsed.username) : undefined,
    password: parsed.password ? decodeURIComponent(parsed.password) : undefined,
    db: parsed.pathname.length > 1 ? Number(parsed.pathname.slice(1)) : undefined,
    tls: parsed.protocol === 'rediss:' ? { rejectUnauthorized: false } : undefined,
    // BullMQ's blocking commands wait as long as they need; it asks for this on every connection it is given.
    maxRetriesPerRequest: null,
  };
}

/** A plain client, for what is not a queue (the shared rate limit, cancellation marks, health checks). */
export function redisClient(url: string): Redis {
  return new Redis(redisOptions(url));
}
