import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FacepipeError, Logger, MemoryObjectStore, readBatchManifest } from '@facepipe/core';
import { Ingestor, type IngestItem } from '@facepipe/producer';
import { testIntake, trackerFixture, type IntakeQueues } from '../helpers/tracker.js';

const fixture = trackerFixture();

/**
 * Inputs whose reads all finish together: the lanes then complete in bursts, the case in which
 * two lanes used to write the same manifest entry and skip the next.
 */
function burstItems(count: number, lanes: number, prefix: string): AsyncIterable<IngestItem> {
  let release!: () => void;
  let gate = new Promise<void>((r) => (release = r));
  let waiting = 0;
  return (async function* () {
    for (let i = 0; i < count; i++) {
      const bytes = Buffer.from(`${prefix} photo ${i}`);
      yield {
        source: `${prefix}/${String(i).padStart(4, '0')}.jpg`,
        read: async () => {
          const mine = gate;
          waiting += 1;
          if (waiting === lanes || i === count - 1) {
            waiting = 0;
            release();
            gate = new Promise<void>((r) => (release = r));
          }
          await mine;
          return bytes;
        },
      };
    }
  })();
}

/** Queues that take every detect job at once and record the image ids, in order. */
function recordingQueues(): { queued: string[]; queues: IntakeQueues } {
  const queued: string[] = [];
  const waiting = { getWaitingCount: async () => 0 };
  const queues = {
    addDetectBulk: async (jobs: { imageId: string }[]) => void queued.push(...jobs.map((j) => j.imageId)),
    reclassify: async () => undefined,
    clearFinishedJobs: async () => undefined,
    byName: () => waiting,
  } as unknown as IntakeQueues;
  return { queued, queues };
}

test('the manifest lists every input once, in input order, however the lanes finish', async () => {
  const store = new MemoryObjectStore('manifest-test');
  const { queued, queues } = recordingQueues();
  const ingestor = new Ingestor({
    intake: testIntake(fixture, store, queues, 'p-test-1'),
    store,
    log: new Logger({ level: 'silent' }),
    probe: async () => undefined,
    maxBytes: 1 << 20,
  });
  for (const [round, count] of [[1, 200], [2, 37]] as const) {
    const batchId = `bmanifest${round}x00`;
    const { total } = await ingestor.ingest(burstItems(count, 8, `r${round}`), { batchId, purpose: 'ingest', sourceLabel: 'test', concurrency: 8 });
    assert.equal(total, count);
    const entries = [];
    for await (const entry of readBatchManifest(store, batchId)) entries.push(entry);
    assert.deepEqual(entries.map((e) => e.index), Array.from({ length: count }, (_, i) => i), 'every index once, in order');
    assert.deepEqual(entries.map((e) => e.source), Array.from({ length: count }, (_, i) => `r${round}/${String(i).padStart(4, '0')}.jpg`));
  }
  assert.equal(queued.length, 237, 'every new input was queued once');
});

test('the detect queue never goes past its bound, however the lanes finish', async () => {
  // A queue whose answers take a few milliseconds (as on a loaded machine), drained slowly:
  // lanes that fill their bulk at the same moment must not all see the same room.
  const maxQueued = 3;
  let waiting = 0;
  let deepest = 0;
  const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const drain = setInterval(() => (waiting = Math.max(0, waiting - 1)), 15);
  const store = new MemoryObjectStore('bound-test');
  const queues = {
    addDetectBulk: async (jobs: unknown[]) => {
      await pause(3);
      waiting += jobs.length;
      deepest = Math.max(deepest, waiting);
    },
    reclassify: async () => undefined,
    clearFinishedJobs: async () => undefined,
    byName: (stage: string) => ({ getWaitingCount: async () => (await pause(3), stage === 'detect' ? waiting : 0) }),
  } as unknown as IntakeQueues;
  const ingestor = new Ingestor({
    intake: testIntake(fixture, store, queues, 'p-test-1', { detect: maxQueued, embed: 100, classify: 100 }),
    store,
    log: new Logger({ level: 'silent' }),
    probe: async () => undefined,
    maxBytes: 1 << 20,
  });
  try {
    const { total } = await ingestor.ingest(burstItems(48, 8, 'bound'), { batchId: 'bbound0x00', purpose: 'ingest', sourceLabel: 'test', concurrency: 8 });
    assert.equal(total, 48);
  } finally {
    clearInterval(drain);
  }
  assert.ok(deepest <= maxQueued, `the queue reached ${deepest} waiting jobs with a bound of ${maxQueued}`);
});

test('an ingest cut short (storage gone mid-admission) is resumed: only the missing inputs are admitted, one entry per input', async () => {
  const store = new MemoryObjectStore('resume-test');
  const { queued, queues } = recordingQueues();
  const intake = testIntake(fixture, store, queues, 'p-test-1');
  const ingestor = new Ingestor({ intake, store, log: new Logger({ level: 'silent' }), probe: async () => undefined, maxBytes: 1 << 20 });
  const count = 40;
  let failAt: number | undefined = 23;
  const items = () =>
    (async function* () {
      for (let i = 0; i < count; i++) {
        const bytes = Buffer.from(`resume photo ${i}`);
        yield {
          source: `photo-${String(i).padStart(3, '0')}.jpg`,
          read: async () => {
            if (i === failAt) throw new FacepipeError('STORAGE_UNAVAILABLE', 'the store went away');
            return bytes;
          },
        };
      }
    })();
  const batchId = 'bresume0x00';
  await assert.rejects(ingestor.ingest(items(), { batchId, purpose: 'ingest', sourceLabel: 'resume', concurrency: 8, bulkSize: 4 }), { code: 'STORAGE_UNAVAILABLE' });
  const cut = await fixture.tracker.getBatch(batchId);
  assert.equal(cut?.ingested, false);
  assert.equal((await intake.cutShort([cut!])).length, 1, 'a cut-short batch nobody admits into');
  failAt = undefined;
  const { total, resumed } = await ingestor.resume(items(), { batchId, purpose: 'ingest', sourceLabel: 'resume', concurrency: 8 });
  assert.equal(total, count);
  assert.ok(resumed < count, `only the missing inputs were admitted again (${resumed})`);
  const entries = [];
  for await (const entry of readBatchManifest(store, batchId)) entries.push(entry);
  assert.deepEqual(entries.map((e) => e.source).sort(), Array.from({ length: count }, (_, i) => `photo-${String(i).padStart(3, '0')}.jpg`), 'every input once');
  assert.deepEqual(entries.map((e) => e.index).sort((a, b) => a - b), Array.from({ length: count }, (_, i) => i), 'every index once');
  const batch = await fixture.tracker.getBatch(batchId);
  assert.equal(batch?.ingested, true);
  assert.equal(batch?.total, count);
  assert.equal(new Set(queued).size, count, 'every input queued (none lost, repeats attach)');
});
