import { crowdShift, type CrowdCalibrationOptions, type PersonCrowd } from './crowd-calibration.js';
import { meanOfNearest } from './evidence.js';

/**
 * Who a face is, decided from the evidence a careful person would want (open-set identification,
 * not pairwise verification): the classic "nearest example within 0.6" names a stranger as soon
 * as *some* example of *someone* falls within 0.6, and that chance grows with every person and
 * example in the gallery. Here a face is named only when
 * - its face passed the quality gate,
 * - several of the person's examples agree: the mean distance to their `agreeing` nearest
 *   examples is within {@link personThreshold} (tightened as the gallery grows, for a person
 *   with fewer examples, and for a person whose look-alikes crowd the library: crowd-calibration.ts),
 * - and the next person is clearly farther (`margin`).
 * A face that fails only some of these but whose evidence is within `suggestDistance` gets a
 * **suggestion** ("probably X"), stored and shown for confirmation, never counted as a name.
 * Calibrated on impostor distances of the LFW library (docs/recognition.md).
 */
export interface NamingRuleOptions extends CrowdCalibrationOptions {
  /** Name threshold on the mean distance to the person's nearest examples, for a gallery of `referencePeople` people and a typical crowd. @defaultValue 0.45 */
  nameDistance: number;
  /** Gallery size at which `nameDistance` was calibrated. @defaultValue 20 */
  referencePeople: number;
  /** How much the name threshold drops each time the number of people doubles. @defaultValue 0.015 */
  tightenPerDoubling: number;
  /** Lowest the name threshold goes. @defaultValue 0.38 */
  minNameDistance: number;
  /**
   * Highest it goes: a gallery smaller than `referencePeople` loosens it by the same step per
   * halving (fewer people, fewer strangers that can come near one of them). @defaultValue 0.51
   */
  maxNameDistance: number;
  /** Examples of the person whose distances are averaged. @defaultValue 3 */
  agreeing: number;
  /** How much the threshold drops per example a person has fewer than `agreeing`. @defaultValue 0.03 */
  fewerExamplesPenalty: number;
  /** Required gap between the nearest example of the person and the nearest of anyone else. @defaultValue 0.05 */
  margin: number;
  /** Largest evidence (mean distance) of a suggestion. @defaultValue 0.52 */
  suggestDistance: number;
}

export const defaultNamingRule: NamingRuleOptions = {
  nameDistance: 0.45,
  referencePeople: 20,
  tightenPerDoubling: 0.015,
  minNameDistance: 0.38,
  maxNameDistance: 0.51,
  agreeing: 3,
  fewerExamplesPenalty: 0.03,
  margin: 0.05,
  suggestDistance: 0.52,
  crowdNear: 0.5,
  crowdFar: 0.6,
  crowdReference: 0.01,
  crowdWeight: 0.03,
  crowdPrior: 500,
  maxCrowdShift: 0.08,
  crowdSample: 4000,
};

/** The rule with every distance it names at most `tolerance` (FACEPIPE_MATCH_TOLERANCE: a lower value tightens it). */
export function withTolerance(rule: NamingRuleOptions, tolerance: number): NamingRuleOptions {
  const cap = (d: number) => Math.min(d, tolerance);
  return { ...rule, nameDistance: cap(rule.nameDistance), maxNameDistance: cap(rule.maxNameDistance), minNameDistance: cap(rule.minNameDistance), suggestDistance: cap(rule.suggestDistance) };
}

/** One example face near the probe. */
export interface ExampleHit {
  personId: string;
  distance: number;
}

/** What is known about the gallery the hits came from. */
export interface GalleryFacts {
  /** People with at least one example. */
  people: number;
  /** Examples the person has. */
  examplesOf(personId: string): number;
  /** How crowded the library is around the person's examples; undefined when not known (no calibration). */
  crowdOf?(personId: string): PersonCrowd | undefined;
}

export type NamingDecision =
  | { kind: 'name'; personId: string; distance: number }
  | { kind: 'suggestion'; personId: string; distance: number; reason: NotNamedReason }
  | { kind: 'unknown'; distance: number | null };

export type NotNamedReason = 'quality' | 'distance' | 'margin';

/** The name threshold (on the mean distance to a person's nearest examples) for a gallery of `people` people. */
export function namingThreshold(people: number, rule: NamingRuleOptions = defaultNamingRule): number {
  const doublings = Math.log2(Math.max(1, people) / rule.referencePeople);
  return Math.max(rule.minNameDistance, Math.min(rule.maxNameDistance, rule.nameDistance - rule.tightenPerDoubling * doublings));
}

/**
 * The name threshold for a person: the gallery's ({@link namingThreshold}), lowered for a person
 * with fewer than `agreeing` examples, moved by their crowd (crowdShift), within the rule's bounds.
 */
export function personThreshold(gallery: GalleryFacts, personId: string, examples: number, rule: NamingRuleOptions = defaultNamingRule): number {
  const threshold = namingThreshold(gallery.people, rule) - rule.fewerExamplesPenalty * (rule.agreeing - examples) + crowdShift(gallery.crowdOf?.(personId), rule);
  return Math.max(rule.minNameDistance, Math.min(rule.maxNameDistance, threshold));
}

/**
 * Decides from the probe's nearest example faces (any order; enough of them that each nearby
 * person's closest few are in: e.g. the 32 nearest) whether it is named, suggested or unknown.
 * The distance reported is the nearest example's of that person.
 */
export function decideName(hits: readonly ExampleHit[], gallery: GalleryFacts, qualityOk: boolean, rule: NamingRuleOptions = defaultNamingRule): NamingDecision {
  if (hits.length === 0) return { kind: 'unknown', distance: null };
  const sorted = [...hits].sort((a, b) => a.distance - b.distance);
  const best = sorted[0]!;
  const other = sorted.find((h) => h.personId !== best.personId);
  const own = sorted.filter((h) => h.personId === best.personId).map((h) => h.distance);
  const k = Math.max(1, Math.min(rule.agreeing, gallery.examplesOf(best.personId) || own.length));
  const evidence = meanOfNearest(own, k);
  const threshold = personThreshold(gallery, best.personId, k, rule);
  const reason: NotNamedReason | null = !qualityOk ? 'quality' : evidence > threshold ? 'distance' : other && other.distance - best.distance < rule.margin ? 'margin' : null;
  if (reason === null) return { kind: 'name', personId: best.personId, distance: best.distance };
  if (evidence <= rule.suggestDistance) return { kind: 'suggestion', personId: best.personId, distance: best.distance, reason };
  return { kind: 'unknown', distance: best.distance };
}

/** The classic rule, for comparison: the nearest example names the face when within `tolerance`. */
export function classicNearest(hits: readonly ExampleHit[], tolerance = 0.6): NamingDecision {
  const best = [...hits].sort((a, b) => a.distance - b.distance)[0];
  if (!best) return { kind: 'unknown', distance: null };
  return best.distance <= tolerance ? { kind: 'name', personId: best.personId, distance: best.distance } : { kind: 'unknown', distance: best.distance };
}
