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
 * `--library people` replaces the near-duplicate groups with a library of many people: person k is
 * a random blend of two real faces (w·a + (1 − w)·b, w uniform) moved by N(0, 0.03²) per dimension,
 * so people fill the space between real faces instead of crowding around a few hundred points, and
 * each of their `--photos-per-person` (10) faces is the person moved again by N(0, 0.02²) per
 * dimension (two photos of one person ≈ 0.32 apart, as the LFW library's same-person pairs);
 * probes are new photos of people in the index. The real faces are the dev LFW faces, or with
 * `--bases <file.jsonl>` every face of an eval-library cache (`facepipe eval-library` writes one
 * under <data-dir>/eval-cache/). Every draw is seeded by the face's number, so a face is the same
 * whatever the order or the database. `--library crowds` makes person k the real face k mod N moved
 * by N(0, 0.04²) per dimension instead: N tight crowds of look-alikes (two of them ≈ 0.64 apart),
 * a hard case for HNSW's graph (few links between crowds).
 * `--ef-search 40,64,100` searches through HNSW at each `hnsw.ef_search` (latency and recall@10
 * per value; the exact baseline once).
 * Progress and each figure go to stderr as they are measured (a 1 M run takes about an hour), as
 * do the database's notices (pgvector says when the HNSW graph outgrows maintenance_work_mem).
 * The machine is shared: read the ratios rather than the absolute times. With several databases
 * the figures print side by side (one column each; `--json`: an object per database).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
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
    library: { type: 'string', default: 'near-duplicates' },
    'photos-per-person': { type: 'string', default: '10' },
    'ef-search': { type: 'string', default: '64' },
    bases: { type: 'string' },
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
const library = values.library;
if (library !== 'near-duplicates' && library !== 'people' && library !== 'crowds') throw new Error(`--library takes near-duplicates, people or crowds, not "${library}"`);
const photosPerPerson = Number(values['photos-per-person']);
if (!Number.isInteger(photosPerPerson) || photosPerPerson < 1) throw new Error('--photos-per-person must be a whole number of at least 1');
const efSearch = values['ef-search'].split(',').map((v) => Number(v.trim()));
for (const ef of efSearch) if (!Number.isInteger(ef) || ef < 1 || ef > 1000) throw new Error('--ef-search takes whole numbers from 1 to 1000, comma-separated');
const maintenanceWorkMem = values['maintenance-work-mem'].replace(/[^0-9A-Za-z]/g, '');
/** PGlite is 32-bit WebAssembly: its maintenance_work_mem tops out just under 2 GB (2097151 kB). */
function pgliteWorkMem(setting: string): string {
  const m = /^(\d+)(kB|MB|GB)$/i.exec(setting);
  if (!m) return setting;
  const kb = Number(m[1]) * { kb: 1, mb: 1024, gb: 1024 * 1024 }[m[2]!.toLowerCase() as 'kb' | 'mb' | 'gb'];
  return kb > 2_097_151 ? '2097151kB' : setting;
}

const base: number[][] = values.bases
  ? readFileSync(values.bases, 'utf8').split('\n').filter((l) => l.trim()).flatMap((l) => (JSON.parse(l) as { faces: { embedding: number[] }[] }).faces.map((f) => f.embedding))
  : (await lfwEmbeddings()).faces.map((f) => f.embedding);
let seed = 987654321;
const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
const gauss = () => Math.sqrt(-2 * Math.log(random() + 1e-12)) * Math.cos(2 * Math.PI * random());
/** A generator of N(0, 1) draws seeded by `key` (mulberry32 with Box–Muller). */
function seededGauss(key: number): () => number {
  // Integer mixing (Math.imul): a float product of large keys would lose its low bits and repeat seeds.
  let a = Math.imul(key | 0, 2654435761) >>> 0;
  const uniform = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) + 0.5) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
}
const person = (k: number) => {
  const g = seededGauss(2 * k + 1);
  // Crowds: ~455 look-alikes around each real face (two of them ≈ 0.64 apart, near dlib's 0.6 line).
  if (library === 'crowds') return base[k % base.length]!.map((v) => v + g() * 0.04);
  const u = () => (g() + 8) % 1; // uniform enough for picking and mixing: the fractional part of a shifted normal draw
  const [a, b, w] = [base[Math.floor(u() * base.length)]!, base[Math.floor(u() * base.length)]!, u()];
  return a.map((v, d) => w * v + (1 - w) * b[d]! + g() * 0.03);
};
/** Face `i` of the library (people mode: photo i mod n of person ⌊i / n⌋). */
const libraryFace = (i: number) => {
  const g = seededGauss(2 * i + 2 + 2 ** 30);
  return person(Math.floor(i / photosPerPerson)).map((v) => v + g() * 0.02);
};
const noisy = (i: number) => (library !== 'near-duplicates' ? libraryFace(i) : base[i % base.length]!.map((v) => v + gauss() * 0.01));
/** A probe: a new photo of someone in the index (people mode) or another noisy copy of a dev face. */
const probeFace = (q: number) => {
  if (library === 'near-duplicates') return noisy(Math.floor(random() * base.length));
  const g = seededGauss(2 ** 31 - 1 - q);
  const who = Math.floor(((q * 2654435761) % 2 ** 32) / 2 ** 32 * Math.floor(total / photosPerPerson));
  return person(who).map((v) => v + g() * 0.02);
};
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
if (library !== 'near-duplicates') figures.people = Math.ceil(total / photosPerPerson);
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
    await builder.query(`SET maintenance_work_mem = '${kind === 'pglite' ? pgliteWorkMem(maintenanceWorkMem) : maintenanceWorkMem}'`);
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
  const probes = Array.from({ length: queries }, (_, q) => toVectorLiteral(probeFace(q)));
  const search = async (probe: string, exact: boolean, ef = 64) => {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(exact ? 'SET LOCAL enable_indexscan = off' : `SET LOCAL hnsw.ef_search = ${ef}`);
      const s = performance.now();
      const { rows } = await client.query<{ id: string }>('SELECT id FROM faces ORDER BY embedding <-> $1::vector LIMIT 10', [probe]);
      const ms = performance.now() - s;
      await client.query('COMMIT');
      return { ms, ids: rows.map((r) => r.id) };
    } finally {
      client.release();
    }
  };
  const hnswMs = new Map<number, number[]>(efSearch.map((ef) => [ef, []]));
  const foundAt = new Map<number, number>(efSearch.map((ef) => [ef, 0]));
  const exactMs: number[] = [];
  for (const [q, probe] of probes.entries()) {
    // Interleaved, so load on the shared machine hits both alike.
    const approx = new Map<number, { ms: number; ids: string[] }>();
    for (const ef of efSearch) approx.set(ef, await search(probe, false, ef));
    const exact = q % 4 === 0 || queries <= 50 ? await search(probe, true) : undefined;
    for (const ef of efSearch) {
      const a = approx.get(ef)!;
      hnswMs.get(ef)!.push(a.ms);
      if (exact) foundAt.set(ef, foundAt.get(ef)! + a.ids.filter((id) => exact.ids.includes(id)).length / 10);
    }
    if (exact) exactMs.push(exact.ms);
  }
  const { rows: plan } = await pool.query(`EXPLAIN SELECT id FROM faces ORDER BY embedding <-> $1::vector LIMIT 10`, [probes[0]]);
  // One ef_search value: the figures keep their names; several: each name says its ef_search.
  for (const ef of efSearch) {
    const at = efSearch.length === 1 ? '' : `Ef${ef}`;
    const ms = hnswMs.get(ef)!;
    record(`hnswP50Ms${at}`, Math.round(percentile(ms, 50) * 10) / 10);
    record(`hnswP95Ms${at}`, Math.round(percentile(ms, 95) * 10) / 10);
    record(`recallAt10${at}`, Math.round((foundAt.get(ef)! / exactMs.length) * 1000) / 1000);
    record(`exactOverHnswP50${at}`, Math.round((percentile(exactMs, 50) / percentile(ms, 50)) * 10) / 10);
  }
  record('exactP50Ms', Math.round(percentile(exactMs, 50) * 10) / 10);
  record('exactP95Ms', Math.round(percentile(exactMs, 95) * 10) / 10);
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
