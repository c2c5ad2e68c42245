import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cachedReadiness, ConfigError, FacepipeMetrics, instrumentDetectEngine, loadConfig, readyReport, type DetectEngine } from '@facepipe/core';

/** The value of the sample `name` whose labels include `labels` (label order does not matter). */
function sample(body: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of body.split('\n')) {
    const m = /^([a-z_]+)\{(.*)\} (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...m[2]!.matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[3]);
  }
  return undefined;
}

test('job outcomes become counters and histograms with stage and error-code labels', async () => {
  const metrics = new FacepipeMetrics('test');
  metrics.recordJob('detect', 120, { ok: true, images: 1, faces: 3 });
  metrics.recordJob('detect', 80, { ok: true, images: 1, faces: 0 });
  metrics.recordJob('detect', 5, { ok: false, code: 'CORRUPT_IMAGE', final: true });
  metrics.recordJob('embed', 5, { ok: false, code: 'STORAGE_UNAVAILABLE', final: false });
  metrics.recordEmbedBatch(16, 40);
  metrics.recordClassifyBatch(5, 120);
  metrics.recordInference('decode', 12);
  const { body, contentType } = await metrics.scrape();
  assert.match(contentType, /^text\/plain/);
  assert.equal(sample(body, 'facepipe_jobs_completed_total', { stage: 'detect' }), 2);
  assert.equal(sample(body, 'facepipe_images_processed_total', { stage: 'detect' }), 2);
  assert.equal(sample(body, 'facepipe_faces_processed_total', { stage: 'detect' }), 3);
  assert.equal(sample(body, 'facepipe_jobs_failed_total', { stage: 'detect', code: 'CORRUPT_IMAGE', final: 'true' }), 1);
  assert.equal(sample(body, 'facepipe_jobs_failed_total', { stage: 'embed', code: 'STORAGE_UNAVAILABLE', final: 'false' }), 1);
  assert.equal(sample(body, 'facepipe_stage_duration_seconds_count', { stage: 'detect', outcome: 'completed' }), 2);
  // 0.12 s falls in the 0.25 bucket but not the 0.1 one.
  assert.equal(sample(body, 'facepipe_stage_duration_seconds_bucket', { le: '0.1', stage: 'detect', outcome: 'completed' }), 1);
  assert.equal(sample(body, 'facepipe_embed_batch_size_bucket', { le: '16' }), 1);
  assert.equal(sample(body, 'facepipe_embed_batch_size_bucket', { le: '8' }), 0);
  assert.equal(sample(body, 'facepipe_classify_batch_size_bucket', { le: '8' }), 1);
  assert.equal(sample(body, 'facepipe_classify_batch_size_bucket', { le: '4' }), 0);
  assert.equal(sample(body, 'facepipe_classify_batch_duration_seconds_sum', {}), 0.12);
  assert.equal(sample(body, 'facepipe_inference_duration_seconds_count', { step: 'embed' }), 1);
  assert.equal(sample(body, 'facepipe_inference_duration_seconds_sum', { step: 'decode' }), 0.012);
  assert.doesNotMatch(body, /^process_cpu/m, 'process metrics only when asked for');
  metrics.enableProcessMetrics();
  metrics.enableProcessMetrics();
  assert.match((await metrics.scrape()).body, /^process_cpu_user_seconds_total/m);
});

test('queue depth gauges read the watched queues at scrape time and skip a queue that fails', async () => {
  const metrics = new FacepipeMetrics('test');
  const fake = (name: string, fail = false) =>
    ({
      name,
      getJobCounts: async () => {
        if (fail) throw new Error('redis down');
        return { waiting: 4, prioritized: 0, active: 2, delayed: 1, completed: 1_000_000, failed: 3, 'waiting-children': 0 };
      },
      getWorkersCount: async () => 2,
    }) as never;
  metrics.watchQueues([fake('detect'), fake('embed', true)]);
  const { body } = await metrics.scrape();
  assert.equal(sample(body, 'facepipe_queue_jobs', { queue: 'detect', state: 'completed' }), 1000000);
  assert.equal(sample(body, 'facepipe_queue_jobs', { queue: 'detect', state: 'waiting' }), 4);
  assert.doesNotMatch(body, /queue="embed",state=/);
  assert.equal(sample(body, 'facepipe_queue_workers', { queue: 'detect' }), 2);
});

test('readiness: every check must pass; a throwing or silent check is reported, not fatal', async () => {
  const report = await readyReport(
    {
      redis: async () => ({ ok: true }),
      s3: async () => {
        throw new Error('connect ECONNREFUSED');
      },
      models: () => new Promise(() => undefined),
    },
    50,
  );
  assert.equal(report.ready, false);
  assert.deepEqual(report.checks.redis, { ok: true });
  assert.deepEqual(report.checks.s3, { ok: false, detail: 'connect ECONNREFUSED' });
  assert.deepEqual(report.checks.models, { ok: false, detail: 'no answer within 50 ms' });
  assert.equal((await readyReport({ a: async () => ({ ok: true }) })).ready, true);
});

test('readiness results are shared and reused for the cache period', async () => {
  let runs = 0;
  const probe = cachedReadiness(async () => {
    runs += 1;
    await new Promise((r) => setTimeout(r, 5));
    return { ready: true, checks: {} };
  }, 10_000);
  await Promise.all([probe(), probe(), probe()]);
  await probe();
  assert.equal(runs, 1);
});

test('the detect engine wrapper records each vision step and keeps the engine usable', async () => {
  const seen: string[] = [];
  const engine = {
    version: { tag: 'abc' },
    extra: 42,
    analyze: async () => ({ timings: { decodeMs: 1, detectMs: 2, landmarksMs: 3, alignMs: 4 } }),
    close: async () => undefined,
  } as unknown as DetectEngine & { extra: number };
  const wrapped = instrumentDetectEngine(engine, { recordInference: (step: string, ms: number) => void seen.push(`${step}=${ms}`) });
  await wrapped.analyze(new Uint8Array(1));
  assert.deepEqual(seen, ['decode=1', 'detect=2', 'landmarks=3', 'align=4']);
  assert.equal(wrapped.extra, 42);
  assert.equal(wrapped.version.tag, 'abc');
});

test('service settings: defaults, the upload limit capped by FACEPIPE_MAX_BYTES, and a bad token never shown', () => {
  const config = loadConfig({});
  assert.deepEqual(config.http, {
    host: '127.0.0.1',
    port: 8080,
    token: undefined,
    uploadMaxBytes: 32 * 1024 * 1024,
    uploadMaxFiles: 100,
    uploadConcurrency: 16,
    authMaxFailures: 10,
    authWindowMs: 60_000,
    trustProxy: false,
  });
  const behindProxy = loadConfig({ FACEPIPE_AUTH_MAX_FAILURES: '5', FACEPIPE_AUTH_WINDOW_S: '300', FACEPIPE_TRUST_PROXY: 'true' }).http;
  assert.deepEqual([behindProxy.authMaxFailures, behindProxy.authWindowMs, behindProxy.trustProxy], [5, 300_000, true]);
  assert.equal(config.metricsHost, '0.0.0.0');
  assert.equal(loadConfig({ FACEPIPE_MAX_BYTES: '1000', FACEPIPE_UPLOAD_MAX_BYTES: '5000' }).http.uploadMaxBytes, 1000);
  assert.equal(loadConfig({ FACEPIPE_API_TOKEN: 'abcdefghijklmnopqrstuvwxyz' }).http.token, 'abcdefghijklmnopqrstuvwxyz');
  assert.throws(
    () => loadConfig({ FACEPIPE_API_TOKEN: 'short-secret' }),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, /FACEPIPE_API_TOKEN \(12 characters, not shown\): use at least 16 characters/);
      assert.doesNotMatch(err.message, /short-secret/);
      return true;
    },
  );
});
