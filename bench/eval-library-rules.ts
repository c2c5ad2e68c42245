/**
 * The naming and clustering rules on cached library embeddings, offline, in seconds:
 * `npx tsx bench/eval-library-rules.ts <cache.jsonl> [--photos N] [--grid] [--name-distances 0.44,0.46,0.48]`.
 * The cache is what `facepipe eval-library` writes under <data-dir>/eval-cache/ (one photo per
 * line); --grid sweeps the naming threshold and the clustering's looser evidence around the defaults
 * (--clustering '<json>', repeatable, instead: those settings over the defaults); --name-distances
 * sweeps the naming threshold (the suggestion distance kept 0.04 above it), alone or with --grid.
 * `--set P+S` (e.g. 40+200, like the issue's 589-photo set: 40 people and 200 singles) takes, in a
 * fixed hash order, the first P people with at least `--per-person` photos (default 10; that many
 * of each, by hash of the file name) and S people with exactly one photo, and reports their
 * clustering with nobody enrolled, beside the classic methods on the same embeddings.
 * `--draws n` pools the naming over n sets of enrolled people; `--crowd-weights 0,0.03` repeats
 * --name-distances with each weight of the crowd calibration (0: the rule without it);
 * `--naming '<json>'` sets other naming-rule options over the defaults (e.g. the crowd's band,
 * '{"crowdNear":0.45,"crowdFar":0.55}').
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { defaultNamingRule, defaultSupportedClustering, evaluateLibrary, formatLibraryReport, type EvalPhoto, type NamingRuleOptions, type SupportedClusteringOptions } from '@facepipe/face-index';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { photos: { type: 'string' }, grid: { type: 'boolean', default: false }, clustering: { type: 'string', multiple: true }, 'name-distances': { type: 'string' }, 'enroll-people': { type: 'string', default: '20' }, set: { type: 'string' }, 'per-person': { type: 'string', default: '10' }, draws: { type: 'string', default: '1' }, 'crowd-weights': { type: 'string' }, naming: { type: 'string' } } });
let photos: EvalPhoto[] = positionals.flatMap((f) => readFileSync(f, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as EvalPhoto));
if (values.set) {
  const m = /^(\d+)\+(\d+)$/.exec(values.set);
  if (!m) throw new Error('--set takes P+S: people with several photos + people with one, e.g. 40+200');
  const perPerson = Number(values['per-person']);
  const hash = (s: string) => createHash('sha1').update(s).digest('hex');
  const byPerson = new Map<string, EvalPhoto[]>();
  for (const p of photos) if (p.faces.length > 0) byPerson.set(p.person, [...(byPerson.get(p.person) ?? []), p]);
  const order = [...byPerson.keys()].sort((a, b) => (hash(a) < hash(b) ? -1 : 1));
  const many = order.filter((n) => byPerson.get(n)!.length >= perPerson).slice(0, Number(m[1]));
  const singles = order.filter((n) => byPerson.get(n)!.length === 1).slice(0, Number(m[2]));
  photos = [...many.flatMap((n) => [...byPerson.get(n)!].sort((a, b) => (hash(a.file) < hash(b.file) ? -1 : 1)).slice(0, perPerson)), ...singles.map((n) => byPerson.get(n)![0]!)];
  const r = await evaluateLibrary(photos, { enrollPeople: 0, enrollPhotos: 5 });
  process.stdout.write(`set ${values.set}: ${photos.length} photos, ${many.length} people with several + ${singles.length} singles\n`);
  // --clustering '<json>' (repeatable): facepipe's rule with those settings over the defaults, too.
  const variants = await Promise.all((values.clustering ?? []).map(async (j) => ({ ...(await evaluateLibrary(photos, { enrollPeople: 0, enrollPhotos: 5, skipClassic: true, clustering: { ...defaultSupportedClustering, ...(JSON.parse(j) as Partial<SupportedClusteringOptions>) } })).clusters, method: j })));
  for (const c of [r.clusters, ...variants, ...r.classic.clusters]) {
    process.stdout.write(`${c.method}: BCubed P ${c.bcubed.precision.toFixed(4)} R ${c.bcubed.recall.toFixed(4)} F1 ${c.bcubed.f1.toFixed(4)}; pairwise P ${c.pairwise.precision.toFixed(4)} R ${c.pairwise.recall.toFixed(4)}; most people in one cluster ${c.worstPeople}\n`);
  }
  process.exit(0);
}
const base = { enrollPeople: Number(values['enroll-people']), enrollPhotos: 5, draws: Number(values.draws), ...(values.photos ? { photos: Number(values.photos) } : {}) };
const crowdWeights = values['crowd-weights']?.split(',').map(Number) ?? [defaultNamingRule.crowdWeight];
const nameDistances = values['name-distances']?.split(',').map(Number) ?? [];
for (const d of nameDistances) if (!(d > 0 && d < 1)) throw new Error('--name-distances takes distances between 0 and 1, comma-separated');
for (const crowdWeight of crowdWeights) {
  for (const nameDistance of nameDistances) {
    const naming = { ...defaultNamingRule, ...(values.naming ? (JSON.parse(values.naming) as Partial<NamingRuleOptions>) : {}), crowdWeight, nameDistance, maxNameDistance: Math.max(nameDistance + 0.03, defaultNamingRule.maxNameDistance) };
    const r = await evaluateLibrary(photos, { ...base, skipClassic: true, naming });
    const line = (c: typeof r.naming.counts) => `strangers named ${c.strangersNamed}/${c.strangers} (${((100 * c.strangersNamed) / c.strangers).toFixed(2)} %), suggested ${c.strangersSuggested}; enrolled right ${c.enrolledRight}/${c.enrolled} (${((100 * c.enrolledRight) / c.enrolled).toFixed(1)} %), wrong ${c.enrolledWrong}, suggested ${c.enrolledSuggested}`;
    process.stdout.write(`naming crowd ${crowdWeight} t=${nameDistance}: ${line(r.naming.counts)}${r.namingDraws ? `; pooled over ${r.namingDraws.draws} draws: ${line(r.namingDraws.counts)}` : ''}\n`);
  }
}
if (!values.grid && nameDistances.length === 0) process.stdout.write(formatLibraryReport(await evaluateLibrary(photos, base)));
if (values.grid) {
  process.stdout.write('grid:\n');
  // --clustering '{"clearLinkage":0.5}' (repeatable): settings over the defaults; else a sweep of the looser evidence and its margin
  // ({"clearLinkage":0,"fragmentLinkage":0}: the strict linkage alone, the rule before).
  const settings: Partial<SupportedClusteringOptions>[] = values.clustering?.map((j) => JSON.parse(j) as Partial<SupportedClusteringOptions>) ??
    [{ clearLinkage: 0, fragmentLinkage: 0 }, ...[0.46, 0.48, 0.5].flatMap((clearLinkage) => [0.06, 0.08, 0.1].map((contextMargin) => ({ clearLinkage, contextMargin })))];
  for (const setting of settings) {
    const r = await evaluateLibrary(photos, { ...base, skipClassic: true, clustering: { ...defaultSupportedClustering, ...setting } });
    const c = r.clusters;
    process.stdout.write(`clusters ${JSON.stringify(setting)}: BCubed P ${c.bcubed.precision.toFixed(4)} R ${c.bcubed.recall.toFixed(4)} F1 ${c.bcubed.f1.toFixed(4)} worst ${c.worstPeople} over2 ${c.over2People} (${c.worst.map((w) => `${w.person} ${w.photos}`).join(', ')})\n`);
  }
}
