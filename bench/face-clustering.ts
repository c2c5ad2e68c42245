/**
 * Clustering quality on the dev LFW photos: `npx tsx bench/face-clustering.ts [--json]`.
 *
 * Embeds ../shared/data/recognition/lfw_dev (233 photos, 152 people: 52 with 2–9 photos, 100
 * with one) with the pipeline's models, then scores, against the identities, in the same run:
 * 1. DBSCAN (exact neighbourhoods) over a grid of maximum distance × minimum cluster size;
 * 2. dlib's Chinese whispers at its threshold 0.5 (the baseline, as in face_clustering.py);
 * 3. facepipe's incremental clusterer itself (FaceClusterer on the embedded PGlite database over
 *    its socket, HNSW neighbours, faces arriving one photo at a time in a shuffled order), at the
 *    defaults, and its full re-cluster.
 * Scores: pairwise precision (of pairs put together, the share that are one person: merging two
 * people is the worst error) and recall, BCubed precision/recall/F1 (faces in no cluster count
 * as singletons).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  chineseWhispers, clusterQuality, dbscan, defaultClusteringOptions, EmbeddedDatabase, exactNeighbourhoods, FaceIndex,
  type ClusterQuality,
} from '@facepipe/face-index';
import { lfwEmbeddings } from './_lfw-embeddings.js';

const { values } = parseArgs({ options: { json: { type: 'boolean', default: false } } });
const data = await lfwEmbeddings();
const points = data.faces.map((f) => f.embedding);
const truth = data.faces.map((f) => f.person);
const rows: ({ method: string } & ClusterQuality)[] = [];
const fmt = (x: number) => x.toFixed(3);

for (const minFaces of [2, 3, 4]) {
  for (let d = 0.3; d <= 0.6001; d += 0.025) {
    const labels = dbscan(exactNeighbourhoods(points, d), minFaces);
    rows.push({ method: `dbscan d=${d.toFixed(3)} min=${minFaces}`, ...clusterQuality(labels, truth) });
  }
}
rows.push({ method: 'chinese-whispers t=0.5', ...clusterQuality(chineseWhispers(points, 0.5, { seed: 1 }), truth) });

// facepipe's own clusterer, through the database, at its defaults.
const dir = mkdtempSync(join(tmpdir(), 'facepipe-cluster-bench-'));
const db = await EmbeddedDatabase.start({ directory: dir });
const index = await FaceIndex.connect({ url: db.url });
try {
  let seed = 12345;
  const order = points.map((_, i) => i).sort(() => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) - 0.5);
  const faceIds = new Array<string>(points.length);
  const t0 = performance.now();
  for (const i of order) {
    await index.transaction(async (r) => {
      const id = `img${i}`;
      await r.images.upsert({ id, source: `${data.faces[i]!.person}/${data.faces[i]!.file}`, originalKey: id, status: 'done', pipelineVersion: 'p', detectVersion: 'd', embedVersion: data.embedVersion, galleryVersion: null, faceCount: 1, resultKey: id, errorCode: null, processedAt: new Date().toISOString() });
      const written = await r.faces.replaceImageFaces(id, data.embedVersion, 'dlib', [{ faceIndex: 0, box: [0, 0, 1, 1], score: 1, quality: null, embedding: points[i]!, personId: null, personSource: null, matchDistance: null }]);
      faceIds[i] = written[0]!.id;
      await r.clusterer.addFaces(data.embedVersion, written);
    });
  }
  const incrementalMs = performance.now() - t0;
  const labelsNow = async () => {
    const states = await index.repos.faces.statesOfImages(points.map((_, i) => `img${i}`));
    return points.map((_, i) => Number(states.get(`img${i}`)![0]!.clusterId ?? -1));
  };
  const { maxDistance, minFaces } = defaultClusteringOptions;
  rows.push({ method: `facepipe incremental d=${maxDistance} min=${minFaces}`, ...clusterQuality(await labelsNow(), truth) });
  await index.transaction((r) => r.clusterer.recluster(data.embedVersion));
  rows.push({ method: `facepipe full re-cluster d=${maxDistance} min=${minFaces}`, ...clusterQuality(await labelsNow(), truth) });
  process.stderr.write(`incremental clustering of ${points.length} faces through the database: ${(incrementalMs / points.length).toFixed(1)} ms per face\n`);
} finally {
  await index.close();
  await db.close();
  rmSync(dir, { recursive: true, force: true });
}

if (values.json) {
  process.stdout.write(`${JSON.stringify({ faces: points.length, noFace: data.noFace.length, rows })}\n`);
} else {
  process.stdout.write(`${points.length} faces of ${new Set(truth).size} people (${data.noFace.length} photos without a detected face left out)\n`);
  process.stdout.write('| method | pairwise P | pairwise R | BCubed P | BCubed R | BCubed F1 | clusters | in none |\n|---|---|---|---|---|---|---|---|\n');
  for (const r of rows) process.stdout.write(`| ${r.method} | ${fmt(r.pairwisePrecision)} | ${fmt(r.pairwiseRecall)} | ${fmt(r.bcubedPrecision)} | ${fmt(r.bcubedRecall)} | ${fmt(r.bcubedF1)} | ${r.clusters} | ${r.noise} |\n`);
}
