/**
 * What each check after detection costs: `npx tsx bench/face-checks-cost.ts [--runs N]`.
 *
 * `FaceAnalyzer.analyze` (decode + detect + landmarks + checks + align) per photo with the default
 * checks, against the same with one check changed: the mirror check on (it is off by default),
 * the animal check off, the orientation check off. All analyzers run interleaved, photo by photo,
 * one intra-op thread each, so load on the machine hits them alike; medians after 5 warm-up runs.
 * Photos (FACEPIPE_TEST_DATA, default ../shared/data): a 250×250 LFW portrait, the 1 MP AFW photo.
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { FaceAnalyzer, type FaceAnalyzerOptions } from '@facepipe/vision';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '35' } } });
const runs = Number(values.runs);
const WARMUP = 5;
const data = resolve(fileURLToPath(new URL('..', import.meta.url)), process.env.FACEPIPE_TEST_DATA ?? '../shared/data');
const photos = {
  '250 px': resolve(data, 'recognition/lfw_dev/lfw-deepfunneled/Abel_Aguilar/Abel_Aguilar_0001.jpg'),
  '1 MP': resolve(data, 'landmarks/afw_subset_68pt/170817766.jpg'),
};
const variants: [string, FaceAnalyzerOptions][] = [
  ['defaults (animal check on, mirror check off)', {}],
  ['+ mirror check', { screen: { mirror: true } }],
  ['− animal check', { screen: { animals: false } }],
  ['− orientation check', { orientationCheck: false }],
];

const analyzers = await Promise.all(variants.map(([, o]) => FaceAnalyzer.create({ stages: ['detect'], ...o })));
const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
process.stdout.write(`# bench/face-checks-cost.ts — load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}, ${runs} runs per case\n\n`);
process.stdout.write(`| photo | ${variants.map(([n]) => n).join(' | ')} |\n|---|${variants.map(() => '---').join('|')}|\n`);
try {
  for (const [name, path] of Object.entries(photos)) {
    const bytes = readFileSync(path);
    const times = variants.map(() => [] as number[]);
    for (let i = 0; i < WARMUP + runs; i++) {
      for (const [k, analyzer] of analyzers.entries()) {
        const t0 = performance.now();
        await analyzer.analyze(bytes);
        if (i >= WARMUP) times[k]!.push(performance.now() - t0);
      }
    }
    const base = median(times[0]!);
    const cells = times.map((t, k) => (k === 0 ? `${base.toFixed(1)} ms` : `${median(t).toFixed(1)} ms (${(median(t) - base >= 0 ? '+' : '')}${(median(t) - base).toFixed(1)})`));
    process.stdout.write(`| ${name} | ${cells.join(' | ')} |\n`);
  }
} finally {
  await Promise.all(analyzers.map((a) => a.close()));
}
process.stdout.write(`\nload average at the end ${loadavg().map((l) => l.toFixed(2)).join(' ')}\n`);
