import { euclidean } from '../clustering/dbscan.js';
import { meanOfNearest } from './evidence.js';

/**
 * How crowded the library is around a person's examples: of `sampled` faces drawn evenly from the
 * library, how many have evidence for the person (the mean distance to the person's nearest
 * examples, as the naming rule computes it) just beyond the name threshold, in
 * (`crowdNear`, `crowdFar`]. The strangers a single threshold names are the look-alikes of a few
 * people; they sit in crowded regions of the embedding (in the dlib embedding, East Asian and Black
 * faces are placed closer together), and the faces just beyond the threshold show how many more
 * lie just inside it. Counting them needs no labels. Measured on the LFW library
 * (docs/recognition.md): at an equal share of strangers named the crowd-calibrated threshold names
 * about 13 points more of the enrolled people's photos, over 20 different sets of enrolled people.
 */
export interface PersonCrowd {
  /** Library faces looked at. */
  sampled: number;
  /** Those whose evidence for the person lies in (crowdNear, crowdFar]. */
  inBand: number;
}

/** The naming rule's settings that calibrate it by the crowd (a part of NamingRuleOptions). */
export interface CrowdCalibrationOptions {
  /** Examples of the person whose distances are averaged (the rule's evidence). @defaultValue 3 */
  agreeing: number;
  /** Lower end (exclusive) of the evidence band counted. @defaultValue 0.5 */
  crowdNear: number;
  /** Upper end (inclusive) of the band. @defaultValue 0.6 */
  crowdFar: number;
  /** Share of library faces in the band for a typical person: no change to the threshold there. @defaultValue 0.01 */
  crowdReference: number;
  /** How much the threshold drops each time the person's share doubles (and rises each time it halves); 0 turns the calibration off. @defaultValue 0.03 */
  crowdWeight: number;
  /** Library faces the share is shrunk toward the reference with (a small library says little). @defaultValue 500 */
  crowdPrior: number;
  /** The largest change either way. @defaultValue 0.08 */
  maxCrowdShift: number;
  /** Library faces sampled to count a person's crowd. @defaultValue 4000 */
  crowdSample: number;
}

/** A person's evidence for one face: the mean distance to the person's `agreeing` nearest examples (all of them when fewer), as the naming rule takes it. */
export function evidenceFor(face: ArrayLike<number>, examples: readonly ArrayLike<number>[], agreeing: number): number {
  const distances = examples.map((e) => euclidean(face, e)).sort((a, b) => a - b);
  return meanOfNearest(distances, Math.min(agreeing, distances.length));
}

/** Counts a library sample's faces in the person's band. */
export function countCrowd(sample: readonly ArrayLike<number>[], examples: readonly ArrayLike<number>[], options: CrowdCalibrationOptions): PersonCrowd {
  let inBand = 0;
  for (const face of sample) {
    const e = evidenceFor(face, examples, options.agreeing);
    if (e > options.crowdNear && e <= options.crowdFar) inBand += 1;
  }
  return { sampled: sample.length, inBand };
}

/**
 * The change to a person's name threshold for their crowd: −crowdWeight per doubling of their share
 * of library faces in the band over `crowdReference` (the share shrunk toward the reference by
 * `crowdPrior` faces), within ±maxCrowdShift; 0 when nothing is known.
 */
export function crowdShift(crowd: PersonCrowd | undefined, options: CrowdCalibrationOptions): number {
  if (!crowd || options.crowdWeight === 0 || options.crowdReference <= 0) return 0;
  const share = (crowd.inBand + options.crowdPrior * options.crowdReference) / Math.max(1e-9, crowd.sampled + options.crowdPrior);
  if (share <= 0) return options.maxCrowdShift;
  const shift = -options.crowdWeight * Math.log2(share / options.crowdReference);
  // `|| 0`: no -0 for a share right at the reference.
  return Math.max(-options.maxCrowdShift, Math.min(options.maxCrowdShift, shift)) || 0;
}

/**
 * Which of a library's faces make up its sample: `size` of them spread evenly over a fixed
 * pseudo-random order of the keys (the same sample on every run for the same library).
 */
export function sampleEvenly<T>(items: readonly T[], key: (item: T) => string, size: number): T[] {
  if (items.length <= size) return [...items];
  const ordered = items.map((item) => ({ item, h: mixedHash(key(item)) })).sort((a, b) => a.h - b.h);
  return ordered.slice(0, size).map((x) => x.item);
}

/** FNV-1a, then MurmurHash3's finaliser: keys that differ only in their last characters (file#0, file#1) land far apart. */
const mixedHash = (s: string) => {
  let h = 2166136261;
  for (let i = 0; i < s.length; i += 1) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
};
