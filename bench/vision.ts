/**
 * Vision core benchmark: `npx tsx bench/vision.ts [--runs N] [--only detect,embed,procs] [--json]`.
 *
 * 1. detect: ms per image for decode + detect + landmarks + align + the NOT_A_FACE animal check
 *    (`FaceAnalyzer.analyze`, the check's own share in its column) on a
 *    250×250 LFW portrait, a ~1 MP and a ~6 MP real photo, per detector and intra-op thread
 *    count, next to the bare detector `session.run` on the same photo's letterboxed input
 *    (createSession, same threads; the SSD at the input the pipeline picks, `ssdInputExtent` — the
 *    photo's extent at its input side — and at the fixed 512×512 every photo paid before),
 *    measured in the same run, interleaved.
 *    `--threads 1` limits the thread configurations to one intra-op thread.
 *    The baseline of the classic front end runs on the same photos in the same run, interleaved
 *    with each SSD configuration's runs (HOG itself is single-threaded): dlib's HOG detector with one upsample and its 68-point
 *    shape predictor (bench/_dlib-hog.ts; needs Debian's libdlib-dev and libdlib-data, skipped
 *    with a message otherwise). Both sides count decode + detect + landmarks; facepipe's also
 *    pays for the alignment.
 * 2. embed: ms per face for `FaceAnalyzer.embed` (uint8 chips → worker thread → 128-d) at batch
 *    1, 8 and 32 with 1 and 2 intra-op threads, next to the bare `session.run` of the same batch.
 * 3. procs: throughput with both cores busy: 2 processes × 1 intra-op thread vs 1 process × 2
 *    threads, for the detect pipeline (a stream of photos, 2 in flight per process) and for
 *    embedding (batches of 32).
 *
 * Photos come from the shared data (FACEPIPE_TEST_DATA, default ../shared/data): AFW 170817766.jpg
 * (1248×832, 1.04 MP) and 4400753623.jpg (3128×1969, 6.16 MP). Figures are medians; the first
 * runs of each case are warm-up and not counted.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DlibHog } from './_dlib-hog.js';
import {
  CHIP_SIZE, createSession, decodeImage, detectorModel, FaceAnalyzer, letterboxRgb, letterboxRgbRect, ssdInputExtent,
  type DetectorKind, type ModelSession,
} from '@facepipe/vision';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const dataDir = resolve(repoRoot, process.env.FACEPIPE_TEST_DATA ?? '../shared/data');
const PHOTOS = {
  '250 px': resolve(dataDir, 'recognition/lfw_dev/lfw-deepfunneled/Abel_Aguilar/Abel_Aguilar_0001.jpg'),
  '1 MP': resolve(dataDir, 'landmarks/afw_subset_68pt/170817766.jpg'),
  '6 MP': resolve(dataDir, 'landmarks/afw_subset_68pt/4400753623.jpg'),
} as const;
/** The input the pipeline's upright pass runs at: SSD on the photo's extent (ssdInputExtent), tiny at 416×416. */
const inputExtent = (detector: DetectorKind, width: number, height: number): { side: number; width: number; height: number } =>
  (detector === 'ssd' ? ssdInputExtent(width, height) : { side: 416, width: 416, height: 416 });
const FIXED_SIDE: Record<DetectorKind, number> = { ssd: 512, tiny: 416 };
const WARMUP = 2;

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const ms = (v: number) => v.toFixed(v < 10 ? 2 : 1);
const x = (v: number) => `${v.toFixed(2)}×`;

async function timed<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const t = performance.now();
  const r = await fn();
  return [performance.now() - t, r];
}

// --- 1. detect pipeline vs bare detector ---------------------------------------------------------

interface DetectRow {
  detector: DetectorKind;
  threads: number;
  /** Intra-op threads busy-wait between runs (ONNX Runtime's allow_spinning). */
  spinning: boolean;
  photo: string;
  size: string;
  faces: number;
  pipelineMs: number;
  bareMs: number;
  /** The bare detector at the fixed input every photo paid before (SSD 512×512). */
  bareFixedMs: number;
  /** Width × height of the upright pass's input. */
  input: string;
  /** Fastest run of each: closest to the uncontended cost on a shared machine. */
  pipelineMinMs: number;
  bareMinMs: number;
  decodeMs: number;
  detectMs: number;
  landmarksMs: number;
  alignMs: number;
  /** The NOT_A_FACE animal check (object detector on the faces' surroundings). */
  screenMs: number;
}

interface HogRow {
  /** The facepipe configuration it was interleaved with. */
  detector: DetectorKind;
  threads: number;
  spinning: boolean;
  photo: string;
  faces: number;
  /** decode + pyramid_up + HOG + shape predictor, timed inside the dlib process. */
  ms: number;
  minMs: number;
  decodeMs: number;
  detectMs: number;
  landmarksMs: number;
}

async function benchDetect(runs: number, oneThread: boolean, hog: DlibHog | undefined): Promise<{ rows: DetectRow[]; hog: HogRow[] }> {
  const rows: DetectRow[] = [];
  const hogRows: HogRow[] = [];
  for (const detector of ['ssd', 'tiny'] as const) {
    // Spinning only exists with a thread pool; with 2 threads it is measured both ways.
    const configs: (readonly [number, boolean])[] = oneThread ? [[1, false]] : [[1, false], [2, false], [2, true]];
    for (const [threads, spinning] of configs) {
      const analyzer = await FaceAnalyzer.create({ detector, stages: ['detect'], intraOpThreads: threads, intraOpSpinning: spinning });
      const session = await createSession(detectorModel[detector], { intraOpThreads: threads, interOpThreads: 1, intraOpSpinning: spinning });
      try {
        for (const [photo, path] of Object.entries(PHOTOS)) {
          const bytes = readFileSync(path);
          const img = await decodeImage(bytes, { maxPixels: 100_000_000 });
          const extent = inputExtent(detector, img.width, img.height);
          const side = extent.side;
          const fixed = FIXED_SIDE[detector];
          const input = letterboxRgbRect(img, side, extent.width, extent.height).tensor;
          const fixedInput = letterboxRgb(img, fixed).tensor;
          const t = { pipeline: [] as number[], bare: [] as number[], bareFixed: [] as number[], decode: [] as number[], detect: [] as number[], landmarks: [] as number[], align: [] as number[], screen: [] as number[] };
          let faces = 0;
          // The HOG baseline interleaved with every SSD configuration, so each ratio compares runs
          // of the same moments on this shared machine.
          const withHog = hog !== undefined && detector === 'ssd';
          const h = { total: [] as number[], decode: [] as number[], detect: [] as number[], landmarks: [] as number[], faces: 0 };
          for (let i = 0; i < WARMUP + runs; i++) {
            const hogResult = withHog ? await hog.detect(path) : undefined;
            if (hogResult && i >= WARMUP) {
              h.total.push(hogResult.decodeMs + hogResult.detectMs + hogResult.landmarksMs);
              h.decode.push(hogResult.decodeMs);
              h.detect.push(hogResult.detectMs);
              h.landmarks.push(hogResult.landmarksMs);
              h.faces = hogResult.faces.length;
            }
            const [pipelineMs, a] = await timed(() => analyzer.analyze(bytes));
            const [bareMs] = await timed(() => session.run(input, 1, extent.height, extent.width));
            const fixedIsSame = extent.width === fixed && extent.height === fixed;
            const [bareFixedMs] = fixedIsSame ? [bareMs] : await timed(() => session.run(fixedInput, 1, fixed, fixed));
            if (i < WARMUP) continue;
            t.bareFixed.push(bareFixedMs);
            faces = a.faces.length;
            t.pipeline.push(pipelineMs);
            t.bare.push(bareMs);
            t.decode.push(a.timings.decodeMs);
            t.detect.push(a.timings.detectMs);
            t.landmarks.push(a.timings.landmarksMs);
            t.align.push(a.timings.alignMs);
            t.screen.push(a.timings.screenMs ?? 0);
          }
          rows.push({
            detector, threads, spinning, photo, size: `${img.width}×${img.height}`, faces,
            pipelineMs: median(t.pipeline), bareMs: median(t.bare), bareFixedMs: median(t.bareFixed), input: `${extent.width}×${extent.height}`, pipelineMinMs: Math.min(...t.pipeline), bareMinMs: Math.min(...t.bare), decodeMs: median(t.decode),
            detectMs: median(t.detect), landmarksMs: median(t.landmarks), alignMs: median(t.align), screenMs: median(t.screen),
          });
          if (withHog) {
            hogRows.push({ detector, threads, spinning, photo, faces: h.faces, ms: median(h.total), minMs: Math.min(...h.total), decodeMs: median(h.decode), detectMs: median(h.detect), landmarksMs: median(h.landmarks) });
          }
        }
      } finally {
        await session.release();
        await analyzer.close();
      }
    }
  }
  return { rows, hog: hogRows };
}

// --- 2. embeddings vs bare session.run -----------------------------------------------------------

interface EmbedRow {
  threads: number;
  batch: number;
  pipelineMsPerFace: number;
  bareMsPerFace: number;
}

/** Deterministic chips with image-like values (the network's cost does not depend on them). */
function syntheticChips(count: number): Uint8Array {
  const chips = new Uint8Array(count * CHIP_SIZE * CHIP_SIZE * 3);
  for (let i = 0; i < chips.length; i++) chips[i] = (i * 7919 + (i >> 9)) & 255;
  return chips;
}

async function benchEmbed(runs: number): Promise<EmbedRow[]> {
  const rows: EmbedRow[] = [];
  for (const threads of [1, 2]) {
    const analyzer = await FaceAnalyzer.create({ stages: ['embed'], intraOpThreads: threads });
    const session: ModelSession = await createSession('face_recognition', { intraOpThreads: threads, interOpThreads: 1 });
    try {
      for (const batch of [1, 8, 32]) {
        const chips = syntheticChips(batch);
        const floats = Float32Array.from(chips);
        const reps = batch === 1 ? runs * 4 : runs;
        const p: number[] = [];
        const b: number[] = [];
        for (let i = 0; i < WARMUP + reps; i++) {
          const [pipelineMs] = await timed(() => analyzer.embed(chips, batch));
          const [bareMs] = await timed(() => session.run(floats, batch, CHIP_SIZE, CHIP_SIZE));
          if (i < WARMUP) continue;
          p.push(pipelineMs / batch);
          b.push(bareMs / batch);
        }
        rows.push({ threads, batch, pipelineMsPerFace: median(p), bareMsPerFace: median(b) });
      }
    } finally {
      await session.release();
      await analyzer.close();
    }
  }
  return rows;
}

// --- 3. 2 processes × 1 thread vs 1 process × 2 threads ------------------------------------------

interface ChildTask {
  kind: 'detect' | 'embed';
  detector: DetectorKind;
  threads: number;
  /** Inference worker threads in the process. */
  workers: number;
  /** detect: images to analyse (2 in flight); embed: batches of 32. */
  items: number;
}

/** Child mode: load, say "ready", wait for "go", do the work, print the wall time. */
async function child(task: ChildTask): Promise<void> {
  const analyzer = await FaceAnalyzer.create({ detector: task.detector, stages: [task.kind], intraOpThreads: task.threads, inferenceThreads: task.workers });
  const bytes = readFileSync(PHOTOS['1 MP']);
  const chips = syntheticChips(32);
  const once = async () => (task.kind === 'detect' ? analyzer.analyze(bytes) : analyzer.embed(chips, 32));
  await once();
  await once();
  process.stdout.write('ready\n');
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) if (line === 'go') break;
  const started = performance.now();
  let next = 0;
  await Promise.all([0, 1].map(async () => {
    while (next < task.items) {
      next++;
      await once();
    }
  }));
  process.stdout.write(`${JSON.stringify({ ms: performance.now() - started })}\n`);
  lines.close();
  await analyzer.close();
}

/** Starts `n` children with `task`, releases them together, returns the wall time until all finish. */
async function runChildren(n: number, task: ChildTask): Promise<number> {
  const procs = Array.from({ length: n }, () =>
    spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', JSON.stringify(task)], { cwd: repoRoot, stdio: ['pipe', 'pipe', 'inherit'] }),
  );
  const outputs = procs.map((p) => createInterface({ input: p.stdout! })[Symbol.asyncIterator]());
  await Promise.all(outputs.map(async (it) => {
    const { value } = await it.next();
    if (value !== 'ready') throw new Error(`bench child said ${String(value)}`);
  }));
  const started = performance.now();
  for (const p of procs) p.stdin!.write('go\n');
  await Promise.all(outputs.map((it) => it.next()));
  const wall = performance.now() - started;
  await Promise.all(procs.map((p) => new Promise((r) => (p.exitCode !== null ? r(null) : p.once('exit', r)))));
  return wall;
}

interface ProcsRow {
  work: string;
  layout: string;
  items: number;
  msPerItem: number;
}

async function benchProcs(runs: number): Promise<ProcsRow[]> {
  const rows: ProcsRow[] = [];
  const cases: { work: string; task: Omit<ChildTask, 'threads' | 'workers' | 'items'>; total: number; unit: number }[] = [
    { work: 'detect pipeline, ssd, 1 MP photo (ms per image)', task: { kind: 'detect', detector: 'ssd' }, total: 4 * runs, unit: 1 },
    { work: 'detect pipeline, tiny, 1 MP photo (ms per image)', task: { kind: 'detect', detector: 'tiny' }, total: 8 * runs, unit: 1 },
    { work: 'embedding, batches of 32 (ms per face)', task: { kind: 'embed', detector: 'ssd' }, total: runs, unit: 32 },
  ];
  for (const c of cases) {
    const total = Math.max(2, c.total - (c.total % 2));
    const two = await runChildren(2, { ...c.task, threads: 1, workers: 1, items: total / 2 });
    const one = await runChildren(1, { ...c.task, threads: 2, workers: 1, items: total });
    const pool = await runChildren(1, { ...c.task, threads: 1, workers: 2, items: total });
    rows.push({ work: c.work, layout: '2 processes × 1 thread', items: total * c.unit, msPerItem: two / (total * c.unit) });
    rows.push({ work: c.work, layout: '1 process × 2 threads', items: total * c.unit, msPerItem: one / (total * c.unit) });
    rows.push({ work: c.work, layout: '1 process, 2 inference workers × 1 thread', items: total * c.unit, msPerItem: pool / (total * c.unit) });
  }
  return rows;
}

// --- report ----------------------------------------------------------------------------------------

function printDetect(rows: DetectRow[], hog: HogRow[], hogMissing: string | undefined): void {
  console.log('\n### decode + detect + landmarks + align, ms per image (median)\n');
  console.log('| detector | intra-op threads | spinning | photo | faces | input | pipeline (fastest) | bare detector run (fastest) | pipeline / bare | bare at fixed 512 (SSD) | decode | detect | landmarks | align | animal check |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    console.log(`| ${r.detector} | ${r.threads} | ${r.threads > 1 ? (r.spinning ? 'on' : 'off') : '–'} | ${r.photo} (${r.size}) | ${r.faces} | ${r.input} | ${ms(r.pipelineMs)} (${ms(r.pipelineMinMs)}) | ${ms(r.bareMs)} (${ms(r.bareMinMs)}) | ${x(r.pipelineMs / r.bareMs)} | ${ms(r.bareFixedMs)} | ${ms(r.decodeMs)} | ${ms(r.detectMs)} | ${ms(r.landmarksMs)} | ${ms(r.alignMs)} | ${ms(r.screenMs)} |`);
  }
  console.log('\n"detect" includes letterboxing, the model run in the inference worker and decoding its output.');
  if (hogMissing) {
    console.log(`\ndlib HOG baseline skipped: missing ${hogMissing}.`);
    return;
  }
  console.log('\n### against the classic front end: dlib HOG (1 upsample) + 68-point shape predictor, same photos, same run (median ms per photo; fastest in brackets)\n');
  console.log('| photo | HOG faces | HOG: decode + detect + landmarks | HOG decode / detect / landmarks | facepipe configuration | facepipe faces | facepipe: decode + detect + landmarks + align | HOG / facepipe |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const h of hog) {
    for (const r of rows.filter((r) => r.photo === h.photo && r.detector === h.detector && r.threads === h.threads && r.spinning === h.spinning)) {
      const config = `${r.detector}, ${r.threads} thread${r.threads > 1 ? `s, spinning ${r.spinning ? 'on' : 'off'}` : ''}`;
      console.log(`| ${h.photo} | ${h.faces} | ${ms(h.ms)} (${ms(h.minMs)}) | ${ms(h.decodeMs)} / ${ms(h.detectMs)} / ${ms(h.landmarksMs)} | ${config} | ${r.faces} | ${ms(r.pipelineMs)} (${ms(r.pipelineMinMs)}) | ${x(h.ms / r.pipelineMs)} |`);
    }
  }
}

function printEmbed(rows: EmbedRow[]): void {
  console.log('\n### embeddings, ms per face (median)\n');
  console.log('| intra-op threads | batch | FaceAnalyzer.embed | bare session.run | embed / bare |');
  console.log('|---|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.threads} | ${r.batch} | ${ms(r.pipelineMsPerFace)} | ${ms(r.bareMsPerFace)} | ${x(r.pipelineMsPerFace / r.bareMsPerFace)} |`);
}

function printProcs(rows: ProcsRow[]): void {
  console.log('\n### throughput with both cores: 2 processes × 1 thread vs 1 process × 2 threads (2 items in flight per process)\n');
  console.log('| work | layout | items | ms per item | vs 2 processes × 1 thread |');
  console.log('|---|---|---|---|---|');
  for (let i = 0; i < rows.length; i += 3) {
    const base = rows[i]!;
    for (const r of rows.slice(i, i + 3)) console.log(`| ${r.work} | ${r.layout} | ${r.items} | ${ms(r.msPerItem)} | ${x(r.msPerItem / base.msPerItem)} |`);
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '9' },
      only: { type: 'string', default: 'detect,embed,procs' },
      threads: { type: 'string' },
      json: { type: 'boolean', default: false },
      child: { type: 'string' },
    },
  });
  if (values.child) return child(JSON.parse(values.child) as ChildTask);
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs must be a positive integer');
  const only = new Set(values.only!.split(','));
  const cpu = cpus();
  console.log(`# bench/vision.ts — ${cpu.length} × ${cpu[0]?.model.trim() ?? 'CPU'}, Node ${process.version}, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}, ${runs} runs per case`);
  const report: Record<string, unknown> = {};
  if (only.has('detect')) {
    const started = await DlibHog.start();
    const hog = started instanceof DlibHog ? started : undefined;
    try {
      const detect = await benchDetect(runs, values.threads === '1', hog);
      report.detect = detect.rows;
      report.hog = detect.hog;
      printDetect(detect.rows, detect.hog, started instanceof DlibHog ? undefined : started.missing);
    } finally {
      await hog?.close();
    }
  }
  if (only.has('embed')) printEmbed((report.embed = await benchEmbed(runs)) as EmbedRow[]);
  if (only.has('procs')) printProcs((report.procs = await benchProcs(runs)) as ProcsRow[]);
  console.log(`\nload average at the end: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  if (values.json) console.log(JSON.stringify(report));
}

await main();
