/**
 * What each detector pass costs and finds: `npx tsx bench/detect-passes.ts [--passes all] [photos or folders…]`.
 *
 * Runs `FaceAnalyzer.analyze` (the workers' settings from the environment, `--passes` as
 * `FACEPIPE_DETECT_PASSES`) over the photos, default the annotated AFW and dlib-boxes photos
 * and the negatives of the shared data, one at a time, and prints per pass: on how many photos it
 * ran, its total model-side time (the `passes[].ms` of the result documents) and its share of all
 * passes' time, and the faces it found. Then the photos where a pass other than `upright` ran,
 * with their faces: what an extra pass bought, and where.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { LocalInputWalker, loadConfig, parseDetectPasses } from '@facepipe/core';
import { analyzerOptionsFromConfig, FaceAnalyzer } from '@facepipe/vision';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { passes: { type: 'string', default: 'all' } } });
const passes = parseDetectPasses(values.passes);
if (!passes) throw new Error(`--passes: ${values.passes} is not all, none, or a list of padded, tiles, turned`);
const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const dataDir = resolve(repoRoot, process.env.FACEPIPE_TEST_DATA ?? '../shared/data');
const inputs = positionals.length > 0 ? positionals : ['landmarks/afw_subset_68pt', 'detection/dlib_pascal_training', 'negatives'].map((d) => resolve(dataDir, d));
const files: string[] = [];
for await (const entry of new LocalInputWalker().paths(inputs)) if (!entry.error) files.push(entry.path);

const analyzer = await FaceAnalyzer.create({ ...analyzerOptionsFromConfig(loadConfig(process.env)), passes, stages: ['detect'] });
const perPass = new Map<string, { photos: number; ms: number; found: number }>();
const extra: string[] = [];
let faces = 0;
try {
  for (const file of files) {
    const a = await analyzer.analyze(await readFile(file));
    faces += a.faces.length;
    for (const p of a.passes) {
      const name = p.pass.startsWith('turned') ? 'turned' : p.pass;
      const s = perPass.get(name) ?? { photos: 0, ms: 0, found: 0 };
      perPass.set(name, { photos: s.photos + (p.pass === 'turned180' || p.pass === 'turned270' ? 0 : 1), ms: s.ms + p.ms, found: s.found + p.found });
    }
    if (a.passes.length > 1) extra.push(`${file.slice(dataDir.length + 1)} (${a.width}×${a.height}): ${a.faces.length} faces; ${a.passes.map((p) => `${p.pass} ${p.found} in ${p.ms} ms`).join(', ')}`);
  }
} finally {
  await analyzer.close();
}
const total = [...perPass.values()].reduce((s, p) => s + p.ms, 0);
console.log(`# bench/detect-passes.ts — ${files.length} photos, passes ${values.passes}, ${faces} faces kept\n`);
console.log('| pass | photos it ran on | model-side ms in all | share of all passes | faces it found (before merging) |');
console.log('|---|---|---|---|---|');
for (const [name, p] of perPass) console.log(`| ${name} | ${p.photos} | ${Math.round(p.ms)} | ${((100 * p.ms) / total).toFixed(1)} % | ${p.found} |`);
console.log(`\nphotos where an extra pass ran (${extra.length}):`);
for (const line of extra) console.log(`- ${line}`);
