import { chineseWhispers } from '../clustering/chinese-whispers.js';
import { clusterQuality } from '../clustering/cluster-metrics.js';
import { dbscan, euclidean, exactNeighbourhoods } from '../clustering/dbscan.js';
import { clusterInMemory, defaultSupportedClustering, type SupportedClusteringOptions } from '../clustering/supported-clustering.js';
import { countCrowd, sampleEvenly } from '../naming/crowd-calibration.js';
import { classicNearest, decideName, defaultNamingRule, namingThreshold, personThreshold, type ExampleHit, type GalleryFacts, type NamingDecision, type NamingRuleOptions } from '../naming/naming-rule.js';
import { defaultQualityGate, qualityFailure, type QualityGateOptions } from '../quality/face-quality-gate.js';

/** A labelled photo with the pipeline's faces (what `facepipe eval-library` embeds). */
export interface EvalPhoto {
  file: string;
  person: string;
  width: number;
  height: number;
  faces: { box: number[]; score: number; quality?: { shapeResidual: number; yaw: number; pitch: number; sharpness: number }; embedding: number[] }[];
  error?: string;
}

export interface LibraryEvalOptions {
  /** People enrolled. @defaultValue 20 */
  enrollPeople: number;
  /** Photos enrolled per person. @defaultValue 5 */
  enrollPhotos: number;
  /** Evaluate a library of about this many photos (whole people, the enrolled first). */
  photos?: number;
  embedVersion?: string;
  naming?: NamingRuleOptions;
  clustering?: SupportedClusteringOptions;
  quality?: QualityGateOptions;
  /** Leave out the classic rules' clusterings (faster, when tuning). */
  skipClassic?: boolean;
  /** Sets of enrolled people the naming is evaluated with, pooled in `namingDraws`. @defaultValue 1 */
  draws?: number;
}

export interface NamingFigures {
  /** Share of strangers' photos (person not enrolled) named as someone. */
  strangersNamed: number;
  strangersSuggested: number;
  /** Share of enrolled people's other photos named right. */
  enrolledRight: number;
  enrolledWrong: number;
  enrolledSuggested: number;
  suggestions: { right: number; wrong: number };
  counts: { strangers: number; strangersNamed: number; strangersSuggested: number; enrolled: number; enrolledRight: number; enrolledWrong: number; enrolledSuggested: number };
}

export interface ClusterFigures {
  method: string;
  pairwise: { precision: number; recall: number };
  bcubed: { precision: number; recall: number; f1: number };
  clusters: number;
  inNone: number;
  /** How many different people the worst cluster holds. */
  worstPeople: number;
  /** Clusters holding more than two people. */
  over2People: number;
  /** The worst cluster's people, most photos first (at most 8). */
  worst: { person: string; photos: number }[];
}

/** What naming the clusters reaches (nameClusters). */
export interface ClusterNamingFigures {
  /** Clusters named. */
  clusters: number;
  /** Their faces, which become examples. */
  examples: number;
  /** Of those, faces of someone other than the name the cluster got. */
  examplesOfOthers: number;
  /** Other faces the names then reach through the naming rule. */
  named: number;
  /** Of those, someone else's. */
  namedOthers: number;
  /** Someone else's share of every face the names reach. */
  othersShare: number;
}

export interface LibraryEvalReport {
  embedVersion: string;
  photos: number;
  people: number;
  /** Photos where the pipeline found no face (or could not read). */
  noFace: number;
  /** Subject faces the quality gate keeps out of clusters and automatic names. */
  qualityFailed: number;
  enrolled: { people: string[]; photos: number };
  nameThreshold: number;
  strangersNamed: number;
  strangersSuggested: number;
  enrolledRight: number;
  /** Each enrolled person's name threshold (for a face with `agreeing` examples of them near), their crowd included. */
  personThresholds: Record<string, number>;
  naming: NamingFigures;
  /** The naming figures pooled over `draws` sets of enrolled people (the first is the report's), when asked for. */
  namingDraws?: Omit<NamingFigures, 'suggestions'> & { draws: number };
  clusters: ClusterFigures;
  /** Every cluster named as the person most of its faces are, then the rest of the library named by the rule over those examples. */
  clusterNaming: ClusterNamingFigures;
  classic: { nearest06: NamingFigures; nearestThresholds: { threshold: number; strangersNamed: number; enrolledRight: number }[]; clusters: ClusterFigures[] };
  settings: { naming: NamingRuleOptions; clustering: SupportedClusteringOptions; quality: QualityGateOptions };
}

/** The photo's subject: its largest face whose centre is in the middle half of the photo (else its largest). */
export function subjectFace(photo: EvalPhoto): number {
  if (photo.faces.length === 0) return -1;
  const area = (i: number) => photo.faces[i]!.box[2]! * photo.faces[i]!.box[3]!;
  const central = (i: number) => {
    const [x, y, w, h] = photo.faces[i]!.box as [number, number, number, number];
    const cx = (x + w / 2) / Math.max(1, photo.width);
    const cy = (y + h / 2) / Math.max(1, photo.height);
    return cx > 0.25 && cx < 0.75 && cy > 0.25 && cy < 0.75;
  };
  const order = photo.faces.map((_, i) => i).sort((a, b) => Number(central(b)) - Number(central(a)) || area(b) - area(a));
  return order[0]!;
}

/** A fixed pseudo-random order of strings (FNV-1a), so choices are the same on every run. */
const hashOf = (s: string) => {
  let h = 2166136261;
  for (let i = 0; i < s.length; i += 1) h = Math.imul(h ^ s.charCodeAt(i), 16777619) >>> 0;
  return h;
};

/**
 * Enrolls `enrollPhotos` photos of `enrollPeople` people (chosen in a fixed pseudo-random order among
 * those with at least twice as many photos), names every other photo's subject face with
 * facepipe's rule (calibrated by each enrolled person's crowd in the library, as the index does)
 * and with the classic rules, clusters the subject faces with nobody enrolled, and scores all of
 * it against the folder names. With `draws` > 1 the naming is repeated for other sets of enrolled
 * people and pooled (`namingDraws`): one set's figures depend on who happened to be enrolled.
 */
export async function evaluateLibrary(all: readonly EvalPhoto[], options: LibraryEvalOptions): Promise<LibraryEvalReport> {
  const rule = options.naming ?? defaultNamingRule;
  const clustering = options.clustering ?? defaultSupportedClustering;
  const gate = options.quality ?? defaultQualityGate;
  const byPerson = new Map<string, EvalPhoto[]>();
  for (const p of all) byPerson.set(p.person, [...(byPerson.get(p.person) ?? []), p]);
  const eligible = [...byPerson.entries()].filter(([, ps]) => ps.filter((p) => p.faces.length > 0).length >= 2 * options.enrollPhotos).map(([name]) => name);
  // Draw 0 is the report's set of enrolled people; later draws, for namingDraws, other fixed pseudo-random sets.
  const enrolledIn = (draw: number) => {
    const key = (n: string) => hashOf(draw === 0 ? n : `${draw}:${n}`);
    return [...eligible].sort((a, b) => key(a) - key(b) || (a < b ? -1 : 1)).slice(0, options.enrollPeople).sort();
  };
  // The library: whole people, the enrolled first, the rest in a fixed shuffled order, up to `photos`.
  const libraryFor = (enrolledPeople: readonly string[]): EvalPhoto[] => {
    if (options.photos === undefined) return [...all];
    const enrolledSet = new Set(enrolledPeople);
    const order = [...enrolledPeople, ...[...byPerson.keys()].filter((n) => !enrolledSet.has(n)).sort((a, b) => hashOf(`library:${a}`) - hashOf(`library:${b}`))];
    const photos: EvalPhoto[] = [];
    for (const name of order) {
      if (photos.length >= options.photos) break;
      photos.push(...byPerson.get(name)!);
    }
    return photos;
  };
  const enrolledPeople = enrolledIn(0);
  const photos = libraryFor(enrolledPeople);
  const first = nameLibrary(photos, enrolledPeople, options.enrollPhotos, rule);
  const subjects = first.subjects;
  const noFace = photos.length - subjects.length;
  const passes = (s: Subject) => qualityFailure(faceOf(s), s.photo) === null;

  let namingDraws: LibraryEvalReport['namingDraws'];
  if ((options.draws ?? 1) > 1) {
    const counts = { ...first.naming.counts };
    for (let draw = 1; draw < options.draws!; draw += 1) {
      const people = enrolledIn(draw);
      const c = nameLibrary(libraryFor(people), people, options.enrollPhotos, rule).naming.counts;
      for (const k of Object.keys(counts) as (keyof typeof counts)[]) counts[k] += c[k];
    }
    namingDraws = { draws: options.draws!, ...shares(counts), counts };
  }

  // Clustering, nobody enrolled: every subject face; facepipe's leaves faces failing the gate out.
  const truth = subjects.map((s) => s.photo.person);
  const points = subjects.map((s) => faceOf(s).embedding);
  const gated = subjects.map((s, i) => ({ i, ok: passes(s) })).filter((x) => x.ok).map((x) => x.i);
  const ownLabels = await clusterInMemory(gated.map((i) => ({ id: String(i), imageId: subjects[i]!.photo.file, embedding: points[i]! })), clustering);
  const labels = new Array<number>(subjects.length).fill(-1);
  gated.forEach((i, k) => (labels[i] = ownLabels[k]!));
  const clusters = clusterFigures(`facepipe (support ${clustering.maxDistance}, average linkage ${clustering.maxLinkage}${clustering.clearLinkage ? `, clear ${clustering.clearLinkage}` : ''}${clustering.fragmentLinkage ? `, fragments ${clustering.fragmentLinkage}` : ''}${clustering.clearLinkage || clustering.fragmentLinkage ? ` by ${clustering.contextMargin ?? 0}` : ''}, min ${clustering.minFaces}, quality gate)`, labels, truth);
  const clusterNaming = nameClusters(photos, subjects, labels, truth, passes, rule);
  const classicClusters = options.skipClassic ? [] : [
    clusterFigures('chinese whispers 0.5 (dlib)', chineseWhispers(points, 0.5, { seed: 1 }), truth),
    clusterFigures('dbscan 0.43 min 3 (facepipe before)', dbscan(exactNeighbourhoods(points, 0.43), 3), truth),
    clusterFigures('dbscan 0.5 min 2', dbscan(exactNeighbourhoods(points, 0.5), 2), truth),
  ];
  return {
    embedVersion: options.embedVersion ?? '',
    photos: photos.length,
    people: new Set(photos.map((p) => p.person)).size,
    noFace,
    qualityFailed: subjects.length - gated.length,
    enrolled: { people: enrolledPeople, photos: first.enrollment.size },
    nameThreshold: round(namingThreshold(enrolledPeople.length, rule)),
    personThresholds: Object.fromEntries(enrolledPeople.map((n) => [n, round(personThreshold(first.gallery, n, Math.min(rule.agreeing, first.gallery.examplesOf(n)), rule))])),
    strangersNamed: first.naming.strangersNamed,
    strangersSuggested: first.naming.strangersSuggested,
    enrolledRight: first.naming.enrolledRight,
    naming: first.naming,
    ...(namingDraws ? { namingDraws } : {}),
    clusters,
    clusterNaming,
    classic: { nearest06: first.nearest06, nearestThresholds: first.nearestThresholds, clusters: classicClusters },
    settings: { naming: rule, clustering, quality: gate },
  };
}

interface Subject {
  photo: EvalPhoto;
  face: number;
}

const faceOf = (s: Subject) => s.photo.faces[s.face]!;

/**
 * Enrolls the first `enrollPhotos` photos (by file name) with a face of each of the people, and
 * names every other photo's subject with facepipe's rule — each person's threshold calibrated by
 * their crowd in this library, counted on an even sample of all its faces as the index counts it —
 * and with the classic nearest-example rule.
 */
function nameLibrary(photos: readonly EvalPhoto[], enrolledPeople: readonly string[], enrollPhotos: number, rule: NamingRuleOptions) {
  const enrolledSet = new Set(enrolledPeople);
  const subjects: Subject[] = photos.map((p) => ({ photo: p, face: subjectFace(p) })).filter((s) => s.face >= 0);
  const passes = (s: Subject) => qualityFailure(faceOf(s), s.photo) === null;
  const enrollment = new Set<EvalPhoto>();
  const examples: { personId: string; embedding: number[] }[] = [];
  for (const name of enrolledPeople) {
    for (const s of subjects.filter((x) => x.photo.person === name).sort((a, b) => (a.photo.file < b.photo.file ? -1 : 1)).slice(0, enrollPhotos)) {
      enrollment.add(s.photo);
      examples.push({ personId: name, embedding: faceOf(s).embedding });
    }
  }
  const gallery = galleryOf(photos, examples, rule);
  const probes = subjects.filter((s) => !enrollment.has(s.photo));
  const hitsOf = probes.map((s) => examples.map((e): ExampleHit => ({ personId: e.personId, distance: euclidean(faceOf(s).embedding, e.embedding) })).sort((a, b) => a.distance - b.distance).slice(0, 32));
  const figures = (decide: (hits: ExampleHit[], i: number) => NamingDecision): NamingFigures => {
    const c = { strangers: 0, strangersNamed: 0, strangersSuggested: 0, enrolled: 0, enrolledRight: 0, enrolledWrong: 0, enrolledSuggested: 0, suggestedRight: 0, suggestedWrong: 0 };
    probes.forEach((s, i) => {
      const d = decide(hitsOf[i]!, i);
      const enrolled = enrolledSet.has(s.photo.person);
      if (enrolled) c.enrolled += 1;
      else c.strangers += 1;
      if (d.kind === 'name') {
        if (!enrolled) c.strangersNamed += 1;
        else if (d.personId === s.photo.person) c.enrolledRight += 1;
        else c.enrolledWrong += 1;
      } else if (d.kind === 'suggestion') {
        if (enrolled) c.enrolledSuggested += 1;
        else c.strangersSuggested += 1;
        if (d.personId === s.photo.person) c.suggestedRight += 1;
        else c.suggestedWrong += 1;
      }
    });
    const { suggestedRight, suggestedWrong, ...counts } = c;
    return { ...shares(counts), suggestions: { right: suggestedRight, wrong: suggestedWrong }, counts };
  };
  const naming = figures((hits, i) => decideName(hits, gallery, passes(probes[i]!), rule));
  const nearest06 = figures((hits) => classicNearest(hits, 0.6));
  const nearestThresholds = [0.45, 0.5, 0.55].map((t) => {
    const f = figures((hits) => classicNearest(hits, t));
    return { threshold: t, strangersNamed: f.strangersNamed, enrolledRight: f.enrolledRight };
  });
  return { subjects, enrollment, gallery, naming, nearest06, nearestThresholds };
}

/**
 * The gallery facts the naming rule sees for these examples: people, examples per person, and each
 * person's crowd counted on an even sample of every face of the library (background faces too, as
 * the index holds them), their own examples left out (they are theirs in the index).
 */
function galleryOf(photos: readonly EvalPhoto[], examples: readonly { personId: string; embedding: number[] }[], rule: NamingRuleOptions): GalleryFacts {
  const examplesOf = new Map<string, number[][]>();
  for (const e of examples) examplesOf.set(e.personId, [...(examplesOf.get(e.personId) ?? []), e.embedding]);
  const sample = sampleEvenly(photos.flatMap((p) => p.faces.map((f, i) => ({ key: `${p.file}#${i}`, embedding: f.embedding }))), (f) => f.key, rule.crowdSample);
  const crowds = new Map(
    [...examplesOf].map(([person, own]) => {
      const mine = new Set(own);
      return [person, countCrowd(sample.filter((f) => !mine.has(f.embedding)).map((f) => f.embedding), own, rule)];
    }),
  );
  return { people: examplesOf.size, examplesOf: (id: string) => examplesOf.get(id)?.length ?? 0, crowdOf: (id: string) => crowds.get(id) };
}

/**
 * Names every cluster as the person most of its faces are (as a user naming clusters would), then
 * decides every other subject face by the naming rule over those examples: how many faces the
 * names reach, and how many of them are someone else's.
 */
function nameClusters(photos: readonly EvalPhoto[], subjects: readonly Subject[], labels: readonly number[], truth: readonly string[], passes: (s: Subject) => boolean, rule: NamingRuleOptions): ClusterNamingFigures {
  const members = new Map<number, number[]>();
  labels.forEach((l, i) => {
    if (l >= 0) members.set(l, [...(members.get(l) ?? []), i]);
  });
  const examples: { personId: string; embedding: number[]; i: number }[] = [];
  let examplesOfOthers = 0;
  for (const list of members.values()) {
    const votes = new Map<string, number>();
    for (const i of list) votes.set(truth[i]!, (votes.get(truth[i]!) ?? 0) + 1);
    const person = [...votes].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0]![0];
    for (const i of list) {
      examples.push({ personId: person, embedding: faceOf(subjects[i]!).embedding, i });
      if (truth[i] !== person) examplesOfOthers += 1;
    }
  }
  const gallery = galleryOf(photos, examples, rule);
  const isExample = new Set(examples.map((e) => e.i));
  let named = 0;
  let namedOthers = 0;
  subjects.forEach((s, i) => {
    if (isExample.has(i)) return;
    const hits = examples.map((e): ExampleHit => ({ personId: e.personId, distance: euclidean(faceOf(s).embedding, e.embedding) })).sort((a, b) => a.distance - b.distance).slice(0, 32);
    const d = decideName(hits, gallery, passes(s), rule);
    if (d.kind !== 'name') return;
    named += 1;
    if (d.personId !== truth[i]) namedOthers += 1;
  });
  const reached = examples.length + named;
  return { clusters: members.size, examples: examples.length, examplesOfOthers, named, namedOthers, othersShare: reached === 0 ? 0 : round((examplesOfOthers + namedOthers) / reached) };
}

function shares(c: NamingFigures['counts']): Omit<NamingFigures, 'suggestions' | 'counts'> {
  const share = (n: number, of: number) => (of === 0 ? 0 : round(n / of));
  return {
    strangersNamed: share(c.strangersNamed, c.strangers),
    strangersSuggested: share(c.strangersSuggested, c.strangers),
    enrolledRight: share(c.enrolledRight, c.enrolled),
    enrolledWrong: share(c.enrolledWrong, c.enrolled),
    enrolledSuggested: share(c.enrolledSuggested, c.enrolled),
  };
}

/** Scores cluster labels (-1: in none) against identities. */
export function clusterFigures(method: string, labels: readonly number[], truth: readonly string[]): ClusterFigures {
  const q = clusterQuality(labels, truth);
  const members = new Map<number, string[]>();
  labels.forEach((l, i) => {
    if (l >= 0) members.set(l, [...(members.get(l) ?? []), truth[i]!]);
  });
  let worst: string[] = [];
  let worstPeople = 0;
  let over2People = 0;
  for (const people of members.values()) {
    const n = new Set(people).size;
    if (n > 2) over2People += 1;
    if (n > worstPeople || (n === worstPeople && people.length > worst.length)) [worstPeople, worst] = [n, people];
  }
  const counts = new Map<string, number>();
  for (const p of worst) counts.set(p, (counts.get(p) ?? 0) + 1);
  return {
    method,
    pairwise: { precision: round(q.pairwisePrecision), recall: round(q.pairwiseRecall) },
    bcubed: { precision: round(q.bcubedPrecision), recall: round(q.bcubedRecall), f1: round(q.bcubedF1) },
    clusters: q.clusters,
    inNone: q.noise,
    worstPeople,
    over2People,
    worst: [...counts.entries()].sort((a, b) => b[1] - a[1]).slice(0, 8).map(([person, photos]) => ({ person, photos })),
  };
}

const pct = (x: number) => `${(x * 100).toFixed(2)} %`;
const f3 = (x: number) => x.toFixed(3);

/** The report as text tables. */
export function formatLibraryReport(r: LibraryEvalReport): string {
  const lines = [
    `${r.photos} photos of ${r.people} people (${r.noFace} without a face found; ${r.qualityFailed} subject faces below the quality gate); ${r.enrolled.people.length} people enrolled with ${r.enrolled.photos} photos; name threshold ${r.nameThreshold}`,
    '',
    '| naming rule | strangers named | strangers suggested | enrolled named right | enrolled named wrong | enrolled suggested | suggestions right/wrong |',
    '|---|---|---|---|---|---|---|',
  ];
  const row = (name: string, f: NamingFigures) =>
    `| ${name} | ${pct(f.strangersNamed)} (${f.counts.strangersNamed}/${f.counts.strangers}) | ${pct(f.strangersSuggested)} | ${pct(f.enrolledRight)} (${f.counts.enrolledRight}/${f.counts.enrolled}) | ${pct(f.enrolledWrong)} | ${pct(f.enrolledSuggested)} | ${f.suggestions.right}/${f.suggestions.wrong} |`;
  lines.push(row('facepipe', r.naming), row('nearest example within 0.6 (classic)', r.classic.nearest06));
  if (r.namingDraws) {
    const d = r.namingDraws;
    lines.push(`| facepipe, pooled over ${d.draws} sets of enrolled people | ${pct(d.strangersNamed)} (${d.counts.strangersNamed}/${d.counts.strangers}) | ${pct(d.strangersSuggested)} | ${pct(d.enrolledRight)} (${d.counts.enrolledRight}/${d.counts.enrolled}) | ${pct(d.enrolledWrong)} | ${pct(d.enrolledSuggested)} | |`);
  }
  for (const t of r.classic.nearestThresholds) lines.push(`| nearest example within ${t.threshold} | ${pct(t.strangersNamed)} | – | ${pct(t.enrolledRight)} | | | |`);
  lines.push('', '| clustering (nobody enrolled) | pairwise P | pairwise R | BCubed P | BCubed R | BCubed F1 | clusters | in none | most people in a cluster | clusters of > 2 people |', '|---|---|---|---|---|---|---|---|---|---|');
  for (const c of [r.clusters, ...r.classic.clusters]) {
    lines.push(`| ${c.method} | ${f3(c.pairwise.precision)} | ${f3(c.pairwise.recall)} | ${f3(c.bcubed.precision)} | ${f3(c.bcubed.recall)} | ${f3(c.bcubed.f1)} | ${c.clusters} | ${c.inNone} | ${c.worstPeople} | ${c.over2People} |`);
  }
  lines.push('', ...[r.clusters, ...r.classic.clusters].map((c) => `worst cluster, ${c.method}: ${c.worst.map((w) => `${w.person} ${w.photos}`).join(', ')}`));
  const cn = r.clusterNaming;
  lines.push('', `naming every cluster as its main person: ${cn.examples} faces of ${cn.clusters} clusters (${cn.examplesOfOthers} of them someone else), then ${cn.named} more named by the rule (${cn.namedOthers} someone else): ${pct(cn.othersShare)} of what the names reach is someone else`);
  return `${lines.join('\n')}\n`;
}

const round = (x: number) => Math.round(x * 1e6) / 1e6;
