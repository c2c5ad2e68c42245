import { Redis, type RedisOptions } from 'ioredis';

/**
 * Opens an ioredis connection following BullMQ's production guidance: workers use
 * `maxRetriesPerRequest: null` (blocking commands must wait out Redis restarts), producers and
 * HTTP handlers fail fast instead (`maxRetriesPerRequest: 3`) so a caller sees an error rather
 * than hanging. Both reconnect with capped exponential backoff.
 */
export function createRedisConnection(url: string, role: 'worker' | 'client', extra: RedisOptions = {}): Redis {
  return new Redis(url, {
    maxRetriesPerRequest: role === 'worker' ? null : 3,
    // Capped at 2 s: after a Redis restart everyone is back within 2 s (each retry is one connect).
    retryStrategy: (times) => Math.min(2 ** times * 100, 2000),
    connectionName: `facepipe-${role}`,
    lazyConnect: false,
    ...extra,
  });
}

/** Closes a connection without throwing when it is already closed. */
export async function closeRedis(redis: Redis): Promise<void> {
  if (redis.status === 'end') return;
  try {
    await redis.quit();
  } catch {
    redis.disconnect();
  }
}
