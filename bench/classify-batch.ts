/**
 * Classify stage benchmark, the face index write + name + cluster path:
 * `npx tsx bench/classify-batch.ts [--faces 10000,100000] [--images 240] [--warmup 64] [--batch 16]
 * [--database pglite,postgres] [--cache <dir>] [--single-only] [--maintenance-work-mem 1GB] [--shared-buffers 512MB] [--profile] [--json]`.
 *
 * For each database and each library size in `--faces`: a fresh database holding that many
 * indexed, clustered faces (noisy copies of the dev LFW embeddings grouped as people of ~10 photos
 * each, bulk-loaded, HNSW built, every person's faces in one cluster, as a library looks after
 * classify has run over it), then `--images` new photos of two faces each (one of a known person,
 * one of a newcomer seen twice in the set) classified through ClassifyHandler with the index:
 * - one at a time (`handle`, one transaction per image: the stage before micro-batching), and
 * - micro-batched (`handleBatch`, `--batch` images per transaction), in alternating slices of
 *   `--batch` images so load on the shared machine hits both alike.
 * Figures: faces/s of each and their ratio, SQL statements per face of each, and the time to load
 * the library (not measured against anything). Result documents go to an in-memory store (S3 is
 * not what is measured). `--cache <dir>` keeps each built library (database folder) there and
 * copies it for later runs, so a 100 k library on PGlite (a 5 min HNSW build) is built once.
 * `--warmup` images are classified one at a time first, untimed (a database copied from the
 * cache starts with cold buffers). `--single-only` measures only the one-at-a-time path (the code
 * before micro-batching has no `handleBatch`). `--profile` prints the time each kind of statement
 * took, per path.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { MemoryObjectStore, objectKeys, type ClassifyJobData, type EmbeddingsDocument, type FacesDocument } from '@facepipe/core';
import { LocalPostgres } from '@facepipe/devstack';
import { EmbeddedDatabase, FaceIndex, parseVectorLiteral, toVectorLiteral } from '@facepipe/face-index';
import { ClassifyHandler, FaceNamer } from '@facepipe/worker-classify';
import { lfwEmbeddings } from './_lfw-embeddings.js';

const { values } = parseArgs({
  options: {
    faces: { type: 'string', default: '10000,100000' },
    images: { type: 'string', default: '240' },
    warmup: { type: 'string', default: '64' },
    batch: { type: 'string', default: '16' },
    database: { type: 'string', default: 'pglite,postgres' },
    cache: { type: 'string' },
    'single-only': { type: 'boolean', default: false },
    'maintenance-work-mem': { type: 'string', default: '1GB' },
    'shared-buffers': { type: 'string', default: '512MB' },
    profile: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
});
const sizes = values.faces.split(',').map(Number);
for (const s of sizes) if (!Number.isInteger(s) || s < 1000) throw new Error('--faces takes whole numbers of at least 1000, comma-separated');
const imageCount = Number(values.images);
const batchSize = Number(values.batch);
if (!Number.isInteger(imageCount) || imageCount < 4) throw new Error('--images must be a whole number of at least 4');
if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 1000) throw new Error('--batch must be a whole number from 1 to 1000');
const databases = values.database.split(',').map((d) => d.trim());
for (const d of databases) if (d !== 'pglite' && d !== 'postgres') throw new Error(`--database takes pglite, postgres or both, not "${d}"`);
const singleOnly = values['single-only'];
// The HNSW build's memory (a 1 M library's graph needs just over 1 GB to be built in memory).
const maintenanceWorkMem = values['maintenance-work-mem'].replace(/[^0-9A-Za-z]/g, '');
/** PostgreSQL's buffer cache (a 1 M library's graph and rows outgrow the default 512 MB). */
const sharedBuffers = values['shared-buffers'].replace(/[^0-9A-Za-z]/g, '');

const base = (await lfwEmbeddings()).faces.map((f) => f.embedding);
let seed = 12345;
const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
const gauss = () => Math.sqrt(-2 * Math.log(random() + 1e-12)) * Math.cos(2 * Math.PI * random());
/** Person p: an LFW face moved by N(0, 0.05²) per dimension (two people of one LFW face are ~0.8 apart); the same vector for the same p. */
const personVector = (p: number) => {
  let s = (p * 2654435761 + 1) % 2 ** 31;
  const r = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  return base[p % base.length]!.map((v) => v + Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r()) * 0.05);
};
/** A photo of a person: N(0, 0.02²) per dimension (two photos of one person are ~0.3 apart). */
const photoOf = (person: number[]) => person.map((v) => v + gauss() * 0.02);

const FACES_PER_PERSON = 10;
const EV = 'e-bench';
const startedAt = performance.now();
const progress = (line: string) => process.stderr.write(`[${Math.round((performance.now() - startedAt) / 1000)} s] ${line}\n`);

// Every statement any client sends, to count statements per face, and (`--profile`) the time each kind takes.
let statements = 0;
const profile = new Map<string, { n: number; ms: number }>();
let profiling = '';
const clientQuery = pg.Client.prototype.query as (...args: unknown[]) => unknown;
(pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown }).query = function (this: pg.Client, ...args: unknown[]) {
  statements += 1;
  const out = clientQuery.apply(this, args);
  if (profiling && out instanceof Promise) {
    const sql = typeof args[0] === 'string' ? args[0] : ((args[0] as { text?: string } | undefined)?.text ?? '?');
    const key = `${profiling} ${sql.replace(/\s+/g, ' ').trim().slice(0, 90)}`;
    const t0 = performance.now();
    void out.then(
      () => {
        const p = profile.get(key) ?? { n: 0, ms: 0 };
        profile.set(key, { n: p.n + 1, ms: p.ms + performance.now() - t0 });
      },
      () => undefined,
    );
  }
  return out;
};

interface Database {
  url: string;
  close(): Promise<void>;
}

async function startDatabase(kind: string, directory: string): Promise<Database> {
  if (kind === 'postgres') {
    const server = await LocalPostgres.start({ directory, durable: true, settings: { maintenance_work_mem: maintenanceWorkMem, max_parallel_maintenance_workers: 2, shared_buffers: sharedBuffers } });
    return { url: server.url, close: () => server.stop() };
  }
  const db = await EmbeddedDatabase.start({ directory });
  return { url: db.url, close: () => db.close() };
}

/** Loads `total` faces as people of FACES_PER_PERSON photos, each person one cluster; builds HNSW. */
async function load(url: string, total: number): Promise<void> {
  const index = await FaceIndex.connect({ url, maxConnections: 1 });
  try {
    const pool = index.pool;
    await pool.query('DROP INDEX faces_embedding_hnsw');
    await pool.query('DROP INDEX faces_reference_hnsw');
    const people = Math.ceil(total / FACES_PER_PERSON);
    const { rows } = await pool.query<{ id: string }>(`INSERT INTO clusters (embed_version) SELECT $1 FROM generate_series(1, $2) RETURNING id`, [EV, people]);
    const clusterIds = rows.map((r) => r.id);
    const step = 2000;
    const vectors = Array.from({ length: people }, (_, p) => personVector(p));
    for (let start = 0; start < total; start += step) {
      const n = Math.min(step, total - start);
      // Face i is a photo of person i % people, in image i / 2 (two people per photo).
      const faces = Array.from({ length: n }, (_, k) => start + k);
      await pool.query(
        `INSERT INTO images (id, source, original_key, status, pipeline_version, embed_version, face_count, result_key, processed_at)
         SELECT 'lib' || x, 'lib' || x || '.jpg', 'o', 'done', 'p', $2, 2, 'r', now() FROM unnest($1::int[]) x ON CONFLICT DO NOTHING`,
        [[...new Set(faces.map((i) => Math.floor(i / 2)))], EV],
      );
      await pool.query(
        `INSERT INTO faces (image_id, face_index, embed_version, embedding_model, box, score, quality, embedding, cluster_id)
         SELECT 'lib' || (i / 2), i % 2, $2, 'dlib', '{0,0,40,40}', 0.9, 1, e::vector, c
         FROM unnest($1::int[], $3::text[], $4::bigint[]) AS t(i, e, c)`,
        [faces, EV, faces.map((i) => toVectorLiteral(photoOf(vectors[i % people]!))), faces.map((i) => clusterIds[i % people])],
      );
    }
    progress(`loaded ${total} faces; building HNSW`);
    await pool.query(`SET maintenance_work_mem = '${maintenanceWorkMem}'`);
    await pool.query('CREATE INDEX faces_embedding_hnsw ON faces USING hnsw (embedding vector_l2_ops)');
    await pool.query(`CREATE INDEX faces_reference_hnsw ON faces USING hnsw (embedding vector_l2_ops) WHERE person_source IN ('enrolled', 'hand') AND person_id IS NOT NULL`);
    await pool.query('ANALYZE');
  } finally {
    await index.close();
  }
}

/** A database folder holding the library: built into the cache once, then copied. */
async function library(kind: string, total: number): Promise<{ db: Database; dir: string; loadS: number | null }> {
  const dir = mkdtempSync(join(tmpdir(), `facepipe-classify-bench-${kind}-`));
  const cached = values.cache ? join(values.cache, `${kind}-${total}`) : undefined;
  if (cached && existsSync(join(cached, 'ready'))) {
    execFileSync('cp', ['-a', `${cached}/.`, dir]);
    rmSync(join(dir, 'ready'));
    return { db: await startDatabase(kind, dir), dir, loadS: null };
  }
  const t0 = performance.now();
  let db = await startDatabase(kind, dir);
  await load(db.url, total);
  const loadS = Math.round((performance.now() - t0) / 100) / 10;
  if (cached) {
    await db.close();
    mkdirSync(cached, { recursive: true });
    execFileSync('cp', ['-a', `${dir}/.`, cached]);
    execFileSync('touch', [join(cached, 'ready')]);
    db = await startDatabase(kind, dir);
  }
  return { db, dir, loadS };
}

const store = new MemoryObjectStore('bench');
const namer = new FaceNamer(undefined, { classifier: 'nearest', tolerance: 0.6 });

/** New photos: face 0 a known person of the library, face 1 a newcomer (each newcomer in two photos). */
async function newImages(index: FaceIndex, total: number, tag: string): Promise<ClassifyJobData[]> {
  const people = Math.ceil(total / FACES_PER_PERSON);
  // Known people: the centre of a library cluster each.
  const { rows } = await index.pool.query<{ v: string }>(
    `SELECT avg(embedding)::text AS v FROM faces WHERE image_id LIKE 'lib%' AND cluster_id IS NOT NULL GROUP BY cluster_id ORDER BY md5($1 || cluster_id) LIMIT $2`,
    [tag, imageCount],
  );
  const known = rows.map((r) => parseVectorLiteral(r.v));
  const newcomers = Array.from({ length: Math.ceil(imageCount / 2) }, (_, i) => personVector(people + (tag.startsWith('b') ? 1_000_000 : 0) + i));
  const jobs: ClassifyJobData[] = [];
  for (let n = 0; n < imageCount; n += 1) {
    const imageId = `${tag}-${String(n).padStart(6, "0")}-`.padEnd(64, "0");
    const embeddings = [photoOf(known[n % known.length]!), photoOf(newcomers[Math.floor(n / 2) % newcomers.length]!)];
    const facesDoc: FacesDocument = {
      schema: 'facepipe.faces/1', imageId, width: 200, height: 100, format: 'jpeg', orientation: 1,
      detect: { tag: 'd1', detector: 'ssd', landmarks: 'l', minScore: 0.4, minFaceSize: 20, chip: { size: 150, padding: 0.25 } },
      faces: embeddings.map((_, i) => ({ index: i, box: [10 + i * 100, 10, 60, 60], score: 0.9, landmarks: [] })),
      chipsKey: 'chips', timings: { fetchMs: 0, decodeMs: 0, detectMs: 0, landmarksMs: 0, alignMs: 0, storeMs: 0 }, detectedAt: new Date().toISOString(),
    };
    const emb: EmbeddingsDocument = { schema: 'facepipe.embeddings/1', imageId, detectVersion: 'd1', embed: { tag: EV, recognition: 'dlib', flip: false }, embeddings, timings: { fetchMs: 0, embedMs: 0 }, embeddedAt: new Date().toISOString() };
    await store.putJson(objectKeys.faces(imageId, 'd1'), facesDoc);
    await store.putJson(objectKeys.embeddings(imageId, 'd1', EV), emb);
    jobs.push({ imageId, originalKey: `originals/${imageId}`, source: `${imageId}.jpg`, batchId: 'b_bench', enqueuedAt: Date.now(), pipelineVersion: 'p1', detectVersion: 'd1', embedVersion: EV, faceCount: 2 });
  }
  return jobs;
}

async function measure(kind: string, total: number): Promise<Record<string, number>> {
  seed = 12345 + total;
  const { db, dir, loadS } = await library(kind, total);
  const figures: Record<string, number> = { libraryFaces: total };
  if (loadS !== null) figures.libraryLoadS = loadS;
  const index = await FaceIndex.connect({ url: db.url });
  try {
    const handler = new ClassifyHandler({ store, gallery: { current: async () => namer }, outcomes: { recordSuccess: async () => undefined }, index });
    // Untimed first: a database copied from the cache starts with cold buffers (HNSW pages read in on first use).
    const warmup = Number(values.warmup);
    if (warmup > 0) {
      const t0 = performance.now();
      for (const job of (await newImages(index, total, `w${total}`)).slice(0, warmup)) await handler.handle(job);
      progress(`${kind} ${total}: warm-up, ${warmup} images one at a time: ${Math.round(performance.now() - t0)} ms`);
    }
    const single = await newImages(index, total, `s${total}`);
    const batched = singleOnly ? [] : await newImages(index, total, `b${total}`);
    let singleMs = 0;
    let batchMs = 0;
    let singleStatements = 0;
    let batchStatements = 0;
    let failed = 0;
    for (let at = 0; at < imageCount; at += batchSize) {
      let s0 = statements;
      let t0 = performance.now();
      if (values.profile) profiling = 'single';
      for (const job of single.slice(at, at + batchSize)) await handler.handle(job);
      singleMs += performance.now() - t0;
      singleStatements += statements - s0;
      if (singleOnly) continue;
      s0 = statements;
      t0 = performance.now();
      if (values.profile) profiling = 'batch';
      const outcomes = await handler.handleBatch(batched.slice(at, at + batchSize).map((data) => ({ data })));
      batchMs += performance.now() - t0;
      batchStatements += statements - s0;
      failed += outcomes.filter((o) => o.status === 'rejected').length;
    }
    profiling = '';
    if (values.profile) {
      for (const [k, v] of [...profile.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, 24)) progress(`${kind} ${total} ${Math.round(v.ms)} ms in ${v.n}: ${k}`);
      profile.clear();
    }
    if (failed > 0) throw new Error(`${failed} images of the micro-batches failed`);
    const faces = imageCount * 2;
    figures.singleFacesPerS = Math.round((faces / singleMs) * 10000) / 10;
    figures.singleStatementsPerFace = Math.round((singleStatements / faces) * 10) / 10;
    if (!singleOnly) {
      figures.batchFacesPerS = Math.round((faces / batchMs) * 10000) / 10;
      figures.batchStatementsPerFace = Math.round((batchStatements / faces) * 10) / 10;
      figures.batchOverSingle = Math.round((singleMs / batchMs) * 10) / 10;
    }
    const { rows } = await index.pool.query<{ n: string }>(`SELECT count(*) AS n FROM faces WHERE image_id NOT LIKE 'lib%' AND cluster_id IS NOT NULL`);
    figures.newFacesClustered = Number(rows[0]!.n);
    for (const [k, v] of Object.entries(figures)) progress(`${kind} ${total}: ${k} ${v}`);
  } finally {
    await index.close();
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return figures;
}

const results: Record<string, Record<string, number>> = {};
for (const kind of databases) for (const total of sizes) results[`${kind} ${total}`] = await measure(kind, total);
const columns = Object.keys(results);
if (values.json) process.stdout.write(`${JSON.stringify(results)}\n`);
else {
  const names = [...new Set(Object.values(results).flatMap((f) => Object.keys(f)))];
  process.stdout.write(`| figure | ${columns.join(' | ')} |\n|---|${columns.map(() => '---').join('|')}|\n`);
  for (const name of names) process.stdout.write(`| ${name} | ${columns.map((c) => results[c]![name] ?? '–').join(' | ')} |\n`);
}
