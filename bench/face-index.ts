/**
 * Face index benchmark: `npx tsx bench/face-index.ts [--faces 100000] [--queries 200]
 * [--database pglite,postgres] [--json]`.
 *
 * On each database named by `--database` (default pglite), one after the other with the same
 * embeddings and probes: `pglite`, the embedded database (PGlite + pgvector over its socket,
 * through the `pg` driver, as every facepipe process uses it); `postgres`, a private PostgreSQL 15
 * cluster with pgvector (devstack's LocalPostgres: initdb + pg_ctl on a free port, durable
 * settings as in production; `bash scripts/pgvector.sh` installs pgvector), whose HNSW build runs
 * with `--build-workers` parallel maintenance workers (max_parallel_maintenance_workers). With real
 * embeddings of the dev LFW photos plus small noise (each
 * of the 220 faces repeated with N(0, 0.01²) per dimension, so the index holds look-alike
 * groups as a real library does):
 * 1. insert rate: faces written in batches of 1000 rows with no vector index, then 2000 more
 *    one row per statement with the HNSW index in place (the classify stage's pattern); ratio;
 * 2. HNSW build time (m=16, ef_construction=64, pgvector's defaults);
 * 3. search: `--queries` probes (other noisy copies), LIMIT 10, through HNSW (ef_search 64)
 *    and exact (index scans off, the baseline), p50/p95 latency and their ratio;
 *    recall@10 of HNSW against exact;
 * 4. database size.
 * `--drop-indexes` bulk-loads as one would import a big library: the faces table's foreign key,
 * unique constraint and secondary indexes are dropped before the load and rebuilt after it
 * (timed apart, `constraintsRebuildS`); without it every row pays for them as it goes.
 * `--batch` sets the rows per INSERT statement.
 * Progress and each figure go to stderr as they are measured (a 1 M run takes about an hour), as
 * do the database's notices (pgvector says when the HNSW graph outgrows maintenance_work_mem).
 * The machine is shared: read the ratios rather than the absolute times. With several databases
 * the figures print side by side (one column each; `--json`: an object per database).
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { LocalPostgres } from '@facepipe/devstack';
import { EmbeddedDatabase, FaceIndex, toVectorLiteral } from '@facepipe/face-index';
import { lfwEmbeddings } from './_lfw-embeddings.js';

const { values } = parseArgs({
  options: {
    faces: { type: 'string', default: '100000' },
    queries: { type: 'string', default: '200' },
    'maintenance-work-mem': { type: 'string', default: '1GB' },
    'drop-indexes': { type: 'boolean', default: false },
    batch: { type: 'string', default: '1000' },
    database: { type: 'string', default: 'pglite' },
    'build-workers': { type: 'string', default: '2' },
    json: { type: 'boolean', default: false },
  },
});
const total = Number(values.faces);
const batch = Number(values.batch);
if (!Number.isInteger(batch) || batch < 1 || batch > 20_000) throw new Error('--batch must be a whole number from 1 to 20000');
const queries = Number(values.queries);
if (!Number.isInteger(total) || total < 1000) throw new Error('--faces must be a whole number of at least 1000');
const databases = values.database.split(',').map((d) => d.trim());
for (const d of databases) if (d !== 'pglite' && d !== 'postgres') throw new Error(`--database takes pglite, postgres or both (comma-separated), not "${d}"`);
const buildWorkers = Number(values['build-workers']);
if (!Number.isInteger(buildWorkers) || buildWorkers < 0 || buildWorkers > 64) throw new Error('--build-workers must be a whole number from 0 to 64');
const maintenanceWorkMem = values['maintenance-work-mem'].replace(/[^0-9A-Za-z]/g, '');

const base = (await lfwEmbeddings()).faces.map((f) => f.embedding);
let seed = 987654321;
const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
const gauss = () => Math.sqrt(-2 * Math.log(random() + 1e-12)) * Math.cos(2 * Math.PI * random());
const noisy = (i: number) => base[i % base.length]!.map((v) => v + gauss() * 0.01);
const percentile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;
const dirSize = (dir: string): number => readdirSync(dir, { withFileTypes: true }).reduce((s, e) => s + (e.isDirectory() ? dirSize(join(dir, e.name)) : statSync(join(dir, e.name)).size), 0);

const startedAt = performance.now();
const progress = (line: string) => process.stderr.write(`[${Math.round((performance.now() - startedAt) / 1000)} s] ${line}\n`);
const EV = 'bench';
const FACES_PER_IMAGE = 10;

/** A fresh database of the kind, its folder (for the size on disk) and how to stop it. */
async function open(kind: string): Promise<{ url: string; dir: string; close(): Promise<void> }> {
  if (kind === 'postgres') {
    // Production settings (durable writes); memory for the build as the bench's flag says.
    const pg = await LocalPostgres.start({ durable: true, settings: { maintenance_work_mem: maintenanceWorkMem, max_parallel_maintenance_workers: buildWorkers, shared_buffers: '512MB' } });
    return { url: pg.url, dir: pg.dataDir, close: () => pg.stop() };
  }
  const dir = mkdtempSync(join(tmpdir(), 'facepipe-index-bench-'));
  const db = await EmbeddedDatabase.start({ directory: dir });
  return { url: db.url, dir, close: async () => { await db.close(); rmSync(dir, { recursive: true, force: true }); } };
}

async function measure(kind: string): Promise<Record<string, number>> {
// Every database gets the same embeddings and probes: the noise generator starts from one seed.
seed = 987654321;
const db = await open(kind);
const dir = db.dir;
const index = await FaceIndex.connect({ url: db.url, maxConnections: 2 });
const figures: Record<string, number> = { faces: total };
progress(`${kind}: ${db.url}`);
const record = (name: string, value: number) => {
  figures[name] = value;
  progress(`${kind} ${name}: ${value}`);
};
try {
  const pool = index.pool;
  await pool.query('DROP INDEX faces_embedding_hnsw');
  await pool.query('DROP INDEX faces_reference_hnsw');
  // Constraints and secondary indexes of faces, to rebuild after a bulk load (--drop-indexes).
  const { rows: constraints } = await pool.query<{ name: string; def: string }>(
    `SELECT conname AS name, pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conrelid = 'faces'::regclass AND contype IN ('f', 'u') ORDER BY conname`,
  );
  const { rows: indexes } = await pool.query<{ name: string; def: string }>(
    `SELECT indexname AS name, indexdef AS def FROM pg_indexes WHERE tablename = 'faces' AND indexname NOT LIKE '%_pkey' AND indexdef NOT LIKE '%USING hnsw%'
       AND indexname NOT IN (SELECT conname FROM pg_constraint WHERE conrelid = 'faces'::regclass) ORDER BY indexname`,
  );
  if (values['drop-indexes']) {
    for (const c of constraints) await pool.query(`ALTER TABLE faces DROP CONSTRAINT ${c.name}`);
    for (const i of indexes) await pool.query(`DROP INDEX ${i.name}`);
    progress(`dropped ${constraints.map((c) => c.name).concat(indexes.map((i) => i.name)).join(', ')}`);
  }
  // 1. Bulk insert without a vector index.
  let t0 = performance.now();
  for (let start = 0; start < total; start += batch) {
    const n = Math.min(batch, total - start);
    const images = new Set<number>();
    for (let i = start; i < start + n; i += 1) images.add(Math.floor(i / FACES_PER_IMAGE));
    const ids = [...images];
    await pool.query(
      `INSERT INTO images (id, source, original_key, status, pipeline_version, embed_version, face_count, result_key, processed_at)
       SELECT 'img' || x, 'img' || x || '.jpg', 'o', 'done', 'p', $2, ${FACES_PER_IMAGE}, 'r', now() FROM unnest($1::int[]) x ON CONFLICT DO NOTHING`,
      [ids, EV],
    );
    const rows = Array.from({ length: n }, (_, k) => start + k);
    await pool.query(
      `INSERT INTO faces (image_id, face_index, embed_version, embedding_model, box, score, embedding)
       SELECT 'img' || (i / ${FACES_PER_IMAGE}), i % ${FACES_PER_IMAGE}, $2, 'dlib', '{0,0,1,1}', 1, e::vector
       FROM unnest($1::int[], $3::text[]) AS t(i, e)`,
      [rows, EV, rows.map((i) => toVectorLiteral(noisy(i)))],
    );
    if ((start + n) % 100_000 === 0) progress(`${kind}: inserted ${start + n} faces`);
  }
  const bulkS = (performance.now() - t0) / 1000;
  record('bulkInsertPerS', Math.round(total / bulkS));
  if (values['drop-indexes']) {
    t0 = performance.now();
    for (const c of constraints) await pool.query(`ALTER TABLE faces ADD CONSTRAINT ${c.name} ${c.def}`);
    for (const i of indexes) await pool.query(i.def);
    record('constraintsRebuildS', Math.round((performance.now() - t0) / 100) / 10);
  }

  // 2. HNSW build.
  // One connection for the setting and the build (a pool could run them on two).
  const builder = await pool.connect();
  try {
    builder.on('notice', (notice) => progress(`database notice: ${notice.message}`));
    await builder.query(`SET maintenance_work_mem = '${maintenanceWorkMem}'`);
    // PGlite is one process: it has no parallel workers to give.
    if (kind === 'postgres') {
      await builder.query(`SET max_parallel_maintenance_workers = ${buildWorkers}`);
      figures.buildWorkers = buildWorkers;
    }
    progress(`${kind}: building the HNSW index`);
    t0 = performance.now();
    await builder.query('CREATE INDEX faces_embedding_hnsw ON faces USING hnsw (embedding vector_l2_ops)');
    record('hnswBuildS', Math.round((performance.now() - t0) / 100) / 10);
  } finally {
    builder.release();
  }

  // 1b. One row per statement with the index in place.
  const extra = 2000;
  t0 = performance.now();
  for (let i = 0; i < extra; i += 1) {
    const image = `extra${Math.floor(i / FACES_PER_IMAGE)}`;
    if (i % FACES_PER_IMAGE === 0) await pool.query(`INSERT INTO images (id, source, original_key, status, pipeline_version, embed_version, face_count, result_key, processed_at) VALUES ($1, $1, 'o', 'done', 'p', $2, ${FACES_PER_IMAGE}, 'r', now())`, [image, EV]);
    await pool.query(`INSERT INTO faces (image_id, face_index, embed_version, embedding_model, box, score, embedding) VALUES ($1, $2, $3, 'dlib', '{0,0,1,1}', 1, $4)`, [image, i % FACES_PER_IMAGE, EV, toVectorLiteral(noisy(total + i))]);
  }
  record('indexedInsertPerS', Math.round(extra / ((performance.now() - t0) / 1000)));
  await pool.query('ANALYZE faces');

  // 3. Search: HNSW vs exact, recall@10.
  const probes = Array.from({ length: queries }, (_, q) => toVectorLiteral(noisy(Math.floor(random() * base.length))));
  const search = async (probe: string, exact: boolean) => {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(exact ? 'SET LOCAL enable_indexscan = off' : `SET LOCAL hnsw.ef_search = 64`);
      const s = performance.now();
      const { rows } = await client.query<{ id: string }>('SELECT id FROM faces ORDER BY embedding <-> $1::vector LIMIT 10', [probe]);
      const ms = performance.now() - s;
      await client.query('COMMIT');
      return { ms, ids: rows.map((r) => r.id) };
    } finally {
      client.release();
    }
  };
  const hnswMs: number[] = [];
  const exactMs: number[] = [];
  let found = 0;
  for (const [q, probe] of probes.entries()) {
    // Interleaved, so load on the shared machine hits both alike.
    const approx = await search(probe, false);
    const exact = q % 4 === 0 || queries <= 50 ? await search(probe, true) : undefined;
    hnswMs.push(approx.ms);
    if (exact) {
      exactMs.push(exact.ms);
      found += approx.ids.filter((id) => exact.ids.includes(id)).length / 10;
    }
  }
  const { rows: plan } = await pool.query(`EXPLAIN SELECT id FROM faces ORDER BY embedding <-> $1::vector LIMIT 10`, [probes[0]]);
  figures.hnswP50Ms = Math.round(percentile(hnswMs, 50) * 10) / 10;
  figures.hnswP95Ms = Math.round(percentile(hnswMs, 95) * 10) / 10;
  figures.exactP50Ms = Math.round(percentile(exactMs, 50) * 10) / 10;
  figures.exactP95Ms = Math.round(percentile(exactMs, 95) * 10) / 10;
  figures.exactOverHnswP50 = Math.round((percentile(exactMs, 50) / percentile(hnswMs, 50)) * 10) / 10;
  figures.recallAt10 = Math.round((found / exactMs.length) * 1000) / 1000;
  figures.bulkOverIndexedInsert = Math.round((figures.bulkInsertPerS! / figures.indexedInsertPerS!) * 10) / 10;
  figures.databaseMiB = Math.round((await index.sizeBytes()) / 2 ** 20);
  figures.filesMiB = Math.round(dirSize(dir) / 2 ** 20);
  if (!JSON.stringify(plan).includes('faces_embedding_hnsw')) throw new Error(`the HNSW index is not used: ${JSON.stringify(plan)}`);
} finally {
  await index.close();
  await db.close();
}
return figures;
}

const results: Record<string, Record<string, number>> = {};
for (const kind of databases) results[kind] = await measure(kind);
const names = [...new Set(Object.values(results).flatMap((f) => Object.keys(f)))];
if (values.json) process.stdout.write(`${JSON.stringify(databases.length === 1 ? results[databases[0]!] : results)}\n`);
else if (databases.length === 1) for (const [k, v] of Object.entries(results[databases[0]!]!)) process.stdout.write(`${k}: ${v}\n`);
else {
  process.stdout.write(`| figure | ${databases.join(' | ')} |\n|---|${databases.map(() => '---').join('|')}|\n`);
  for (const name of names) process.stdout.write(`| ${name} | ${databases.map((d) => results[d]![name] ?? '–').join(' | ')} |\n`);
}
