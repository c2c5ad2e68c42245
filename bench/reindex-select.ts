/**
 * Re-index selection: `npx tsx bench/reindex-select.ts [--images 20000] [--json]`.
 *
 * N indexed images whose results are of an older pipeline version, in facepipe's embedded
 * S3-protocol server (one result document each) and in the face index (embedded PGlite over its
 * socket), with a private redis-server. In the same run:
 * 1. select only: list + read every result document (today's way without an index) vs keyset
 *    pages of `stale` from the index (after an ANALYZE, included in the time);
 * 2. the whole `facepipe reindex stale` (select, record the batch, claim and queue every image):
 *    Reindexer without an index (S3 listing, the baseline) vs with it, each on a fresh Redis key
 *    prefix so both queue all N.
 * No workers run: the figures are the time to select and queue the work.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createHash } from 'node:crypto';
import { loadConfig, objectKeys, type ResultDocument } from '@facepipe/core';
import { startEmbeddedS3, startLocalRedis } from '@facepipe/devstack';
import { EmbeddedDatabase, FaceIndex } from '@facepipe/face-index';
import { Producer } from '@facepipe/producer';

const { values } = parseArgs({ options: { images: { type: 'string', default: '20000' }, json: { type: 'boolean', default: false } } });
const n = Number(values.images);
const dir = mkdtempSync(join(tmpdir(), 'facepipe-reindex-bench-'));
const redis = await startLocalRedis({ directory: join(dir, 'redis') });
const s3 = await startEmbeddedS3({ directory: join(dir, 's3') });
const db = await EmbeddedDatabase.start({ directory: join(dir, 'db') });
const index = await FaceIndex.connect({ url: db.url });
const figures: Record<string, number> = { images: n };
const env = { ...s3.env, REDIS_URL: redis.url, DATABASE_URL: db.url, FACEPIPE_MAX_QUEUED: String(n * 2), FACEPIPE_LOG_LEVEL: 'warn' };
const producers: Producer[] = [];
try {
  const seed = await Producer.connect(loadConfig({ ...env, FACEPIPE_REDIS_PREFIX: 'seed' }), 'bench');
  producers.push(seed);
  const ids = Array.from({ length: n }, (_, i) => createHash('sha256').update(`image ${i}`).digest('hex'));
  let t0 = performance.now();
  for (let start = 0; start < n; start += 64) {
    await Promise.all(
      ids.slice(start, start + 64).map((id) => {
        const doc = { schema: 'facepipe.result/1', imageId: id, status: 'done', source: `${id}.jpg`, originalKey: objectKeys.original(id), width: 1, height: 1, format: 'jpeg', faceCount: 0, faces: [], versions: { pipeline: 'old', detect: null, embed: null, gallery: null }, timings: {}, processedAt: new Date().toISOString() } as unknown as ResultDocument;
        return seed.ctx.store.putJson(objectKeys.result(id), doc);
      }),
    );
  }
  figures.seedS3S = Math.round((performance.now() - t0) / 100) / 10;
  for (let start = 0; start < n; start += 1000) {
    await index.pool.query(
      `INSERT INTO images (id, source, original_key, status, pipeline_version, face_count, result_key, processed_at)
       SELECT id, id || '.jpg', 'originals/' || substr(id, 1, 2) || '/' || id, 'done', 'old', 0, 'results/' || id || '.json', now() FROM unnest($1::text[]) id`,
      [ids.slice(start, start + 1000)],
    );
  }

  // 1. Selection alone.
  t0 = performance.now();
  let listed = 0;
  for await (const object of seed.ctx.store.list(objectKeys.resultsPrefix)) {
    const doc = await seed.ctx.store.getJson<ResultDocument>(object.key);
    if (doc?.versions.pipeline !== seed.pipelineVersion) listed += 1;
  }
  figures.selectByListingS = Math.round((performance.now() - t0) / 10) / 100;
  t0 = performance.now();
  await index.analyze(); // as the Reindexer does: PGlite has no autovacuum
  let selected = 0;
  for (let after = ''; ; ) {
    const page = await index.repos.images.selectForReindex('stale', seed.pipelineVersion, after, 1000);
    selected += page.length;
    if (page.length < 1000) break;
    after = page[page.length - 1]!.id;
  }
  figures.selectFromIndexS = Math.round((performance.now() - t0) / 10) / 100;
  if (listed !== n || selected !== n) throw new Error(`selected ${listed} by listing and ${selected} from the index, not ${n}`);
  figures.selectSpeedup = Math.round((figures.selectByListingS! / figures.selectFromIndexS!) * 10) / 10;

  // 2. The whole re-index, select + record + claim + queue.
  const whole = async (prefix: string, withIndex: boolean) => {
    const p = await Producer.connect(loadConfig({ ...env, FACEPIPE_REDIS_PREFIX: prefix }), 'bench');
    producers.push(p);
    const s = performance.now();
    const run = await p.reindexer(withIndex ? index : undefined).run('stale');
    if (run.total !== n) throw new Error(`${prefix}: ${run.total} queued, not ${n}`);
    return Math.round((performance.now() - s) / 10) / 100;
  };
  figures.reindexByListingS = await whole('listing', false);
  figures.reindexFromIndexS = await whole('index', true);
  figures.reindexSpeedup = Math.round((figures.reindexByListingS / figures.reindexFromIndexS) * 10) / 10;
} finally {
  for (const p of producers) await p.close();
  await index.close();
  await db.close();
  await s3.close();
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
}
if (values.json) process.stdout.write(`${JSON.stringify(figures)}\n`);
else for (const [k, v] of Object.entries(figures)) process.stdout.write(`${k}: ${v}\n`);
