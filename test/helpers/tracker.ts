import { after, before } from 'node:test';
import { randomUUID } from 'node:crypto';
import { AdmissionGate, BatchIntake, BatchTracker, closeRedis, createRedisConnection, Logger, type ObjectStore, type PipelineQueues, type StageBounds } from '@facepipe/core';
import type { Redis } from 'ioredis';
import { startRedis, type TestRedis } from './redis-server.js';

/**
 * A BatchTracker on a private redis-server for one test file, with its own key prefix; registers
 * the before/after hooks. Read `.tracker` inside tests (it is set once `before` has run).
 */
export function trackerFixture(): { tracker: BatchTracker; redis: Redis; prefix: string } {
  const fixture = {} as { tracker: BatchTracker; redis: Redis; prefix: string };
  let server: TestRedis;
  let redis: Redis;
  before(async () => {
    server = await startRedis();
    redis = createRedisConnection(server.url, 'client');
    fixture.redis = redis;
    fixture.prefix = `t${randomUUID().slice(0, 8)}`;
    fixture.tracker = new BatchTracker(redis, { prefix: fixture.prefix });
  });
  after(async () => {
    await closeRedis(redis);
    await server.stop();
  });
  return fixture;
}

/** A made-up image id from a number. */
export const testImageId = (n: number) => n.toString(16).padStart(64, '0');

/** Queues as the intake uses them, for tests that watch what it queues (no workers). */
export type IntakeQueues = Pick<PipelineQueues, 'addDetectBulk' | 'reclassify' | 'clearFinishedJobs' | 'byName'>;

/** A BatchIntake on the fixture's tracker, with the given queues and bounds. */
export function testIntake(fixture: { tracker: BatchTracker; redis: Redis; prefix: string }, store: ObjectStore, queues: IntakeQueues, pipelineVersion: string, bounds: StageBounds = { detect: 10_000, embed: 10_000, classify: 10_000 }): BatchIntake {
  return new BatchIntake({
    store,
    tracker: fixture.tracker,
    queues,
    redis: fixture.redis,
    prefix: fixture.prefix,
    log: new Logger({ level: 'silent' }),
    pipelineVersion,
    gate: new AdmissionGate(queues, bounds),
  });
}
