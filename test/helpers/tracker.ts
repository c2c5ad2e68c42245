import { after, before } from 'node:test';
import { randomUUID } from 'node:crypto';
import { BatchTracker, closeRedis, createRedisConnection } from '@facepipe/core';
import type { Redis } from 'ioredis';
import { startRedis, type TestRedis } from './redis-server.js';

/**
 * A BatchTracker on a private redis-server for one test file, with its own key prefix; registers
 * the before/after hooks. Read `.tracker` inside tests (it is set once `before` has run).
 */
export function trackerFixture(): { tracker: BatchTracker; redis: Redis } {
  const fixture = {} as { tracker: BatchTracker; redis: Redis };
  let server: TestRedis;
  let redis: Redis;
  before(async () => {
    server = await startRedis();
    redis = createRedisConnection(server.url, 'client');
    fixture.redis = redis;
    fixture.tracker = new BatchTracker(redis, { prefix: `t${randomUUID().slice(0, 8)}` });
  });
  after(async () => {
    await closeRedis(redis);
    await server.stop();
  });
  return fixture;
}

/** A made-up image id from a number. */
export const testImageId = (n: number) => n.toString(16).padStart(64, '0');
