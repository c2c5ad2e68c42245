/**
 * HEIC decode benchmark: `npx tsx bench/heic.ts [--runs N]`.
 *
 * A real photo (AFW 170817766.jpg, 1248×832, from the shared data) is made into a HEIC with
 * Debian's `heif-enc` (libheif-examples) in a temporary folder, then decoded `runs` times, in the
 * same run and interleaved:
 * - jpeg: `decodeImage` of the source JPEG (sharp, libuv thread pool): the baseline;
 * - heic: `decodeImage` of the HEIC (libheif-js WebAssembly in facepipe's decode worker thread);
 * - heic-main: libheif-js called on the main thread (what running it in-line would cost).
 * For each: median ms per decode, and the event loop's longest stall during the decodes (the
 * longest gap between firings of a 1 ms interval timer). Prints ratios to the JPEG baseline.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { decodeHeifPrimary, decodeImage } from '@facepipe/vision';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const data = resolve(repoRoot, process.env.FACEPIPE_TEST_DATA ?? '../shared/data');
const { values } = parseArgs({ options: { runs: { type: 'string', default: '9' } } });
const runs = Number(values.runs);
const source = join(data, 'landmarks/afw_subset_68pt/170817766.jpg');

const dir = mkdtempSync(join(tmpdir(), 'fp-bench-heic-'));
try {
  const heicPath = join(dir, 'photo.heic');
  const enc = spawnSync('heif-enc', ['-q', '80', '-o', heicPath, source], { encoding: 'utf8' });
  if (enc.error || enc.status !== 0) throw new Error(`heif-enc failed (apt-get install libheif-examples): ${enc.error?.message ?? enc.stderr}`);
  const jpeg = readFileSync(source);
  const heic = readFileSync(heicPath);
  const limits = { maxPixels: 50_000_000 };
  const cases: Record<string, () => Promise<unknown>> = {
    jpeg: () => decodeImage(jpeg, limits),
    heic: () => decodeImage(heic, limits),
    'heic-main': () => decodeHeifPrimary(heic, limits.maxPixels, 'black'),
  };
  for (const run of Object.values(cases)) await run(); // warm-up: thread start, WebAssembly compile
  const times: Record<string, number[]> = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
  const stalls: Record<string, number> = Object.fromEntries(Object.keys(cases).map((k) => [k, 0]));
  for (let i = 0; i < runs; i++) {
    for (const [name, run] of Object.entries(cases)) {
      const t = performance.now();
      const ticks = [t];
      const tick = setInterval(() => ticks.push(performance.now()), 1);
      await run();
      times[name]!.push(performance.now() - t);
      await new Promise((r) => setTimeout(r, 5)); // let the timer fire once more after a blocking decode
      clearInterval(tick);
      ticks.push(performance.now());
      for (let k = 1; k < ticks.length; k++) stalls[name] = Math.max(stalls[name]!, ticks[k]! - ticks[k - 1]!);
    }
  }
  const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
  const base = median(times.jpeg!);
  const baseStall = stalls.jpeg!;
  console.log(`HEIC decode, ${runs} runs, 1248x832 photo (${jpeg.length} B JPEG, ${heic.length} B HEIC)`);
  for (const name of Object.keys(cases)) {
    const ms = median(times[name]!);
    console.log(`${name.padEnd(10)} ${ms.toFixed(1).padStart(7)} ms/decode (${(ms / base).toFixed(2)}x jpeg)   longest event-loop stall ${stalls[name]!.toFixed(1).padStart(6)} ms (${(stalls[name]! / baseStall).toFixed(1)}x jpeg)`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
  process.exit(0); // the decode worker thread is unreferenced; exit without waiting for GC
}
