/**
 * Search by face on held-out photos: is the right person first, and how many of the person's
 * photos are in the top 10? `npx tsx bench/search-eval.ts [--probes-per-person 2] [--distractors 600] [--json]`
 *
 * Set (FACEPIPE_TEST_DATA, default ../shared/data; recognition/lfw_library): every person with at
 * least 11 photos (46 people). Their photos in a fixed hash order (sha1 of the file name): the
 * first 10 go into the library, the next `--probes-per-person` are the probes (held out), the rest
 * are left out, so each probe has exactly 10 photos of its person to find. The library also gets
 * the first `--distractors` photos of everyone else in the same hash order, with every face found
 * in them (their small background faces are what crowded the misses' top hits).
 *
 * Every face of every library photo is indexed; the probe is the probe photo's largest face; the
 * search is exact (Euclidean, all library faces). A hit is right when it is the subject (largest
 * face) of one of the person's library photos. Printed per variant: probes with the right person
 * first, recall@10 (the person's photos in the top 10, over 10), and the misses with their yaw.
 *
 * Variants, from one detection per photo in the same run:
 *  - `first`: the landmark net once, on the detector's box (the pipeline's default);
 *  - `refined`: with the optional second landmark pass on a crop centred on the first points;
 *  - `+quality`: the same embeddings, ranked as `facepipe search` ranks (search-ranking.ts:
 *    faces flagged small, blurred or cut by the border count as `--penalty` farther);
 *  - `dlib`: dlib's front end (HOG with one upsample, 68-point ERT shape predictor) aligned by the
 *    same face chip and embedded by the same network, where Debian's libdlib-dev is installed.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadConfig } from '@facepipe/core';
import { DEFAULT_SEARCH_QUALITY, isSearchFlagged, rankSearchHits, type SearchFlagFace } from '@facepipe/face-index';
import { alignFaces, analyzerOptionsFromConfig, estimatePose, FaceAnalyzer, refineLandmarks } from '@facepipe/vision';
import { DlibHog } from './_dlib-hog.js';

const { values: args } = parseArgs({
  options: {
    'probes-per-person': { type: 'string', default: '2' },
    distractors: { type: 'string', default: '600' },
    'min-photos': { type: 'string', default: '11' },
    penalty: { type: 'string', default: String(DEFAULT_SEARCH_QUALITY.penalty) },
    dlib: { type: 'boolean', default: true },
    json: { type: 'boolean', default: false },
  },
});
const probesPerPerson = Number(args['probes-per-person']);
const distractorCount = Number(args.distractors);
const minPhotos = Number(args['min-photos']);
const penalty = Number(args.penalty);
const LIBRARY_PER_PERSON = 10;

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const dir = resolve(repoRoot, process.env.FACEPIPE_TEST_DATA ?? '../shared/data', 'recognition/lfw_library/lfw-deepfunneled');
if (!existsSync(dir)) {
  console.error(`missing test data: ${dir}`);
  process.exit(2);
}

const hashOrder = (files: string[]) => files.map((f) => ({ f, h: createHash('sha1').update(f).digest('hex') })).sort((a, b) => (a.h < b.h ? -1 : 1)).map((x) => x.f);
interface Photo { person: string; file: string; role: 'library' | 'probe' }
const photos: Photo[] = [];
const others: Photo[] = [];
for (const person of readdirSync(dir).sort()) {
  const files = hashOrder(readdirSync(join(dir, person)));
  if (files.length >= minPhotos) {
    files.slice(0, LIBRARY_PER_PERSON).forEach((file) => photos.push({ person, file, role: 'library' }));
    files.slice(LIBRARY_PER_PERSON, LIBRARY_PER_PERSON + probesPerPerson).forEach((file) => photos.push({ person, file, role: 'probe' }));
  } else {
    files.forEach((file) => others.push({ person, file, role: 'library' }));
  }
}
photos.push(...hashOrder(others.map((p) => p.file)).slice(0, distractorCount).map((file) => others.find((p) => p.file === file)!));

interface Face extends SearchFlagFace {
  subject: boolean;
  yaw: { first: number; refined: number };
  embedding: { first: Float32Array; refined: Float32Array; dlib?: Float32Array };
}
interface Described { photo: Photo; faces: Face[]; dlibFaces: { subject: boolean; embedding: Float32Array }[] }

const analyzer = await FaceAnalyzer.create({ ...analyzerOptionsFromConfig(loadConfig()), landmarkRefine: false });
const hogStarted = args.dlib ? await DlibHog.start(1) : { missing: 'off (--no-dlib)' };
const hog = 'missing' in hogStarted ? undefined : hogStarted;
if ('missing' in hogStarted) console.error(`[search-eval] no dlib baseline: missing ${hogStarted.missing}`);

const largest = (boxes: readonly (readonly number[])[]) => boxes.reduce((best, b, i) => (b[2]! * b[3]! > boxes[best]![2]! * boxes[best]![3]! ? i : best), 0);
const described: Described[] = [];
const t0 = performance.now();
try {
  for (const [n, photo] of photos.entries()) {
    const path = join(dir, photo.person, photo.file);
    const img = await analyzer.decode(readFileSync(path));
    const a = await analyzer.analyzeDecoded(img);
    const count = a.faces.length;
    const refinedPoints = await refineLandmarks(analyzer.pool, img, a.faces.map((f) => f.landmarks));
    const [first, refined] = await Promise.all([analyzer.embed(a.chips, count), analyzer.embed(alignFaces(img, refinedPoints), count)]);
    const subject = count > 0 ? largest(a.faces.map((f) => f.box)) : -1;
    const faces: Face[] = a.faces.map((f, i) => ({
      box: f.box,
      score: f.score,
      sharpness: f.quality?.sharpness ?? null,
      image: { width: img.width, height: img.height },
      subject: i === subject,
      yaw: { first: f.quality?.yaw ?? 0, refined: estimatePose(refinedPoints[i]!).yaw },
      embedding: { first: first.slice(i * 128, (i + 1) * 128), refined: refined.slice(i * 128, (i + 1) * 128) },
    }));
    let dlibFaces: Described['dlibFaces'] = [];
    if (hog) {
      const h = await hog.detect(path);
      const chips = alignFaces(img, h.faces.map((f) => f.points));
      const e = await analyzer.embed(chips, h.faces.length);
      const s = h.faces.length > 0 ? largest(h.faces.map((f) => f.box)) : -1;
      dlibFaces = h.faces.map((_, i) => ({ subject: i === s, embedding: e.slice(i * 128, (i + 1) * 128) }));
    }
    described.push({ photo, faces, dlibFaces });
    if ((n + 1) % 100 === 0) console.error(`[search-eval] ${n + 1}/${photos.length} photos, ${((performance.now() - t0) / (n + 1)).toFixed(0)} ms each`);
  }
} finally {
  await analyzer.close();
  await hog?.close();
}

interface LibraryFace { person: string; photo: string; subject: boolean; flagged: boolean; embedding: Float32Array }
type Variant = 'first' | 'refined' | 'dlib';
function libraryOf(v: Variant): LibraryFace[] {
  return described.filter((d) => d.photo.role === 'library').flatMap((d) =>
    v === 'dlib'
      ? d.dlibFaces.map((f) => ({ person: d.photo.person, photo: d.photo.file, subject: f.subject, flagged: false, embedding: f.embedding }))
      : d.faces.map((f) => ({ person: d.photo.person, photo: d.photo.file, subject: f.subject, flagged: isSearchFlagged(f), embedding: f.embedding[v] })),
  );
}
const dist = (a: Float32Array, b: Float32Array) => {
  let s = 0;
  for (let i = 0; i < 128; i++) s += (a[i]! - b[i]!) ** 2;
  return Math.sqrt(s);
};

interface Score { variant: string; probes: number; rightFirst: number; recallAt10: number; misses: { probe: string; yaw: number | null; top: string; distance: number }[] }
function evaluate(v: Variant, quality: boolean): Score {
  const library = libraryOf(v);
  const probes = described.filter((d) => d.photo.role === 'probe');
  let rightFirst = 0, recall = 0;
  const misses: Score['misses'] = [];
  for (const d of probes) {
    const own = v === 'dlib' ? d.dlibFaces.find((f) => f.subject) : d.faces.find((f) => f.subject);
    const yaw = v === 'dlib' ? null : (own as Face | undefined)?.yaw[v] ?? null;
    if (!own) {
      misses.push({ probe: d.photo.file, yaw, top: 'no face found', distance: NaN });
      continue;
    }
    const probeEmbedding = v === 'dlib' ? (own as { embedding: Float32Array }).embedding : (own as Face).embedding[v];
    const hits = library.map((f) => ({ ...f, distance: dist(probeEmbedding, f.embedding) }));
    const ranked = quality ? rankSearchHits(hits, (h) => h.flagged, penalty) : hits.sort((a, b) => a.distance - b.distance);
    const top = ranked.slice(0, 10);
    const right = (h: LibraryFace) => h.person === d.photo.person && h.subject;
    if (right(top[0]!)) rightFirst++;
    else misses.push({ probe: d.photo.file, yaw: yaw === null ? null : Math.round(yaw), top: `${top[0]!.photo}${top[0]!.subject ? '' : ' (a background face)'}`, distance: Math.round(top[0]!.distance * 1000) / 1000 });
    recall += top.filter(right).length / LIBRARY_PER_PERSON;
  }
  return { variant: `${v}${quality ? '+quality' : ''}`, probes: probes.length, rightFirst, recallAt10: Math.round((recall / probes.length) * 1000) / 1000, misses };
}

const scores = [evaluate('first', false), evaluate('first', true), evaluate('refined', false), evaluate('refined', true), ...(hog ? [evaluate('dlib', false)] : [])];
const libraryPhotos = described.filter((d) => d.photo.role === 'library');
const setInfo = {
  people: new Set(described.filter((d) => d.photo.role === 'probe').map((d) => d.photo.person)).size,
  libraryPhotos: libraryPhotos.length,
  libraryFaces: libraryPhotos.reduce((n, d) => n + d.faces.length, 0),
  flaggedFaces: libraryPhotos.reduce((n, d) => n + d.faces.filter((f) => isSearchFlagged(f)).length, 0),
  msPerPhoto: Math.round((performance.now() - t0) / photos.length),
};
if (args.json) console.log(JSON.stringify({ set: setInfo, penalty, scores }));
else {
  console.log(`probes: ${scores[0]!.probes} (${setInfo.people} people, 10 library photos each); library: ${setInfo.libraryPhotos} photos, ${setInfo.libraryFaces} faces (${setInfo.flaggedFaces} flagged for search); quality penalty ${penalty}`);
  console.log('variant            right first   recall@10');
  for (const s of scores) console.log(`${s.variant.padEnd(18)} ${`${s.rightFirst}/${s.probes}`.padStart(11)}   ${s.recallAt10.toFixed(3).padStart(9)}`);
  for (const s of scores) for (const m of s.misses) console.log(`  miss (${s.variant}): ${m.probe} yaw ${m.yaw ?? '-'}°, first: ${m.top} at ${m.distance}`);
}
