import { test } from 'node:test';
import assert from 'node:assert/strict';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { FacepipeError } from '@facepipe/core';
import { createSession, InferencePool, loadModelManifest } from '@facepipe/vision';

const BATCH = 32;
const SIZE = 150;

function faces(batch: number): Float32Array {
  const data = new Float32Array(batch * SIZE * SIZE * 3);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7919) % 256;
  return data;
}

/** Runs `work` while sampling the event loop; returns the work's result, its wall time and the worst loop delay. */
async function measureLag<T>(work: () => Promise<T>): Promise<{ result: T; ms: number; maxLagMs: number; p99LagMs: number; ticks: number }> {
  const h = monitorEventLoopDelay({ resolution: 5 });
  let ticks = 0;
  const timer = setInterval(() => ticks++, 5);
  h.enable();
  await new Promise((resolve) => setTimeout(resolve, 25)); // the histogram's first tick is its baseline
  const started = performance.now();
  const result = await work();
  const ms = performance.now() - started;
  await new Promise((resolve) => setTimeout(resolve, 25)); // let a late timer report a stall
  h.disable();
  clearInterval(timer);
  return { result, ms, maxLagMs: h.max / 1e6, p99LagMs: h.percentile(99) / 1e6, ticks };
}

test('the inference pool keeps the event loop responsive during a batch of 32 embeddings', async () => {
  const manifest = await loadModelManifest();
  const pool = new InferencePool({ models: ['face_recognition'], manifest, intraOpThreads: 1 });
  try {
    await pool.start();
    await pool.run('face_recognition', faces(1), 1, SIZE, SIZE); // warm-up

    // Run batches until at least 400 ms of inference has happened, so the comparison means something
    // on fast machines too. Inputs are made beforehand: filling them is main-thread work.
    const inputs = Array.from({ length: 8 }, () => faces(BATCH));
    const pooled = await measureLag(async () => {
      let runs = 0;
      const t0 = performance.now();
      do {
        const out = await pool.run('face_recognition', inputs[runs]!, BATCH, SIZE, SIZE);
        assert.deepEqual(out.embedding!.dims, [BATCH, 128]);
        runs++;
      } while (performance.now() - t0 < 400 && runs < inputs.length);
      return runs;
    });
    const perBatch = pooled.ms / pooled.result;
    console.log(
      `[event loop] pool: ${pooled.result} × batch ${BATCH} in ${pooled.ms.toFixed(0)} ms (${perBatch.toFixed(0)} ms/batch); ` +
        `main-thread max delay ${pooled.maxLagMs.toFixed(1)} ms, p99 ${pooled.p99LagMs.toFixed(1)} ms, ${pooled.ticks} 5-ms ticks`,
    );
    assert.ok(pooled.ms > 100, `inference took only ${pooled.ms.toFixed(0)} ms`);
    // Blocked by inference, the loop would stall for a whole batch; a loaded machine's scheduler
    // stalls it for tens of ms whatever runs. So: a stall far shorter than one batch.
    assert.ok(pooled.maxLagMs < Math.max(50, perBatch / 3), `event loop stalled ${pooled.maxLagMs.toFixed(1)} ms while the pool ran (${perBatch.toFixed(0)} ms a batch)`);
    assert.ok(pooled.ticks > (pooled.ms / 5) * 0.5, `only ${pooled.ticks} timer ticks in ${pooled.ms.toFixed(0)} ms`);
  } finally {
    await pool.close();
  }

  // For contrast (and the docs): the same batch on the main thread blocks the loop for the whole run.
  const session = await createSession('face_recognition', { manifest, intraOpThreads: 1 });
  try {
    await session.run(faces(1), 1, SIZE, SIZE);
    const input = faces(BATCH);
    const inline = await measureLag(() => session.run(input, BATCH, SIZE, SIZE));
    console.log(`[event loop] same thread: batch ${BATCH} in ${inline.ms.toFixed(0)} ms; max delay ${inline.maxLagMs.toFixed(1)} ms`);
    assert.ok(inline.maxLagMs > inline.ms * 0.8, 'expected session.run() on the main thread to block the loop for the whole run');
  } finally {
    await session.release();
  }
});

test('pool errors are FacepipeError MODEL_ERROR; close() is idempotent', async () => {
  const pool = new InferencePool({ models: ['face_landmark_68'], intraOpThreads: 1 });
  await pool.start();
  await assert.rejects(pool.run('face_landmark_68', new Float32Array(5), 1, 112, 112), (err: unknown) => {
    assert.ok(err instanceof FacepipeError);
    assert.equal(err.code, 'MODEL_ERROR');
    return true;
  });
  await assert.rejects(pool.run('face_recognition', faces(1), 1, SIZE, SIZE), /not loaded/);

  // a view into a larger buffer is copied, not detached
  const big = new Float32Array(2 * 112 * 112 * 3).fill(128);
  const view = big.subarray(112 * 112 * 3);
  const out = await pool.run('face_landmark_68', view, 1, 112, 112);
  assert.equal(big.length, 2 * 112 * 112 * 3);
  assert.deepEqual(out.landmarks!.dims, [1, 136]);
  // an array owning its buffer is transferred
  const owned = new Float32Array(112 * 112 * 3).fill(128);
  const again = await pool.run('face_landmark_68', owned, 1, 112, 112);
  assert.equal(owned.length, 0, 'transferred input is detached');
  assert.deepEqual([...again.landmarks!.data], [...out.landmarks!.data]);

  const closing = pool.close();
  assert.equal(pool.close(), closing);
  await closing;
  await assert.rejects(pool.run('face_landmark_68', new Float32Array(112 * 112 * 3), 1, 112, 112), /closed/);
});

test('a pool whose models cannot load fails at start with MODEL_ERROR', async () => {
  const pool = new InferencePool({ models: ['face_landmark_68'], modelsDir: '/nonexistent/models' });
  await assert.rejects(pool.start(), (err: unknown) => err instanceof FacepipeError && err.code === 'MODEL_ERROR' && /npm run build/.test(err.message));
  await pool.close();
});
