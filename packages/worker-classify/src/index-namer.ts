import type { Box, FaceMatch } from '@facepipe/core';
import { CrowdCalibrator, decideName, defaultNamingRule, type FaceIndexRepositories, type NamingRuleOptions, type PersonCrowd, type PersonSource } from '@facepipe/face-index';
import { iou } from '@facepipe/vision';

/** Overlap at which a name given to a box carries over to a face detected in a re-run. */
export const LABEL_IOU = 0.5;

/** Example faces looked at per face: enough for each nearby person's closest few. */
export const REFERENCE_HITS = 32;

/** Who a face is, as the index decides it. */
export interface IndexedName {
  personId: string | null;
  name: string | null;
  source: PersonSource | null;
  distance: number | null;
  /** Set when the name was given by hand. */
  label?: { at: string; by: string | null };
  /** "Probably this person": evidence short of a name. */
  suggestion?: { personId: string; name: string; distance: number };
}

/**
 * Names faces against the face index, in the classify job's transaction, in this order: a name
 * set by hand on the box (also "nobody"), the face's own enrollment (incl. a named cluster), then
 * the naming rule (decideName: several of a person's examples agreeing, a margin over the next
 * person, a threshold tightened as the gallery grows and calibrated by the person's crowd in the
 * library, the quality gate) over the example faces in
 * the index (enrolled, from named clusters, named by hand) — a name, a suggestion, or unknown.
 * People a face was said not to be (a rejected suggestion) are left out of its evidence. With no
 * example in the index, the gallery's match (which applies the same rule) is used.
 */
export class IndexNamer {
  readonly #crowds: CrowdCalibrator;

  constructor(readonly rule: NamingRuleOptions = defaultNamingRule) {
    this.#crowds = new CrowdCalibrator(rule);
  }

  async name(
    r: FaceIndexRepositories,
    imageId: string,
    embedVersion: string | null,
    faces: readonly FaceToName[],
  ): Promise<IndexedName[]> {
    const [names] = await this.nameMany(r, [{ imageId, embedVersion, faces }]);
    return names!;
  }

  /**
   * {@link IndexNamer.name} for the images of a micro-batch, with the same statements made once
   * for all of them (labels, enrollments, rejections, reference counts, and every face's nearest
   * example faces in one query). Each image is named on the index as it is now: the caller writes
   * an image whose write changes the example faces before naming the images after it.
   */
  async nameMany(r: FaceIndexRepositories, images: readonly { imageId: string; embedVersion: string | null; faces: readonly FaceToName[] }[]): Promise<IndexedName[][]> {
    const ids = images.filter((i) => i.faces.length > 0).map((i) => i.imageId);
    if (ids.length === 0) return images.map(() => []);
    // One after another: they share the transaction's client, which runs one query at a time
    // (pg deprecates queuing on a busy client).
    const labels = await r.people.labelsOfImages(ids);
    const examples = await r.people.examplesOfImages(ids);
    const rejections = await r.people.rejectionsOfImages(ids);
    const counts = new Map<string, Map<string, { count: number; key: string }>>();
    for (const v of new Set(images.filter((i) => i.faces.length > 0).map((i) => i.embedVersion))) {
      if (v) counts.set(v, await r.faces.examplesByPerson(v));
    }
    // Faces the naming rule decides from the index's examples; their nearest examples, per version, in one query each.
    const toDecide = new Map<string, { image: number; face: number }[]>();
    images.forEach((image, i) =>
      image.faces.forEach((face, k) => {
        const v = image.embedVersion;
        if (!v || (counts.get(v)?.size ?? 0) === 0 || face.embedding.length === 0) return;
        if (labelFor(labels.get(image.imageId) ?? [], face) || (examples.get(image.imageId) ?? []).some((e) => e.faceIndex === face.index)) return;
        toDecide.set(v, [...(toDecide.get(v) ?? []), { image: i, face: k }]);
      }),
    );
    const hitsOf = new Map<string, { personId: string; name: string; distance: number }[]>();
    for (const [v, list] of toDecide) {
      const probes = list.map(({ image, face }) => ({
        embedding: images[image]!.faces[face]!.embedding,
        except: rejections.get(images[image]!.imageId)?.get(images[image]!.faces[face]!.index) ?? [],
      }));
      const hits = await r.faces.nearestReferencesOfMany(probes, v, REFERENCE_HITS);
      list.forEach(({ image, face }, n) => hitsOf.set(`${image}:${face}`, hits[n]!));
    }
    // The crowd of each person the rule decides about (the nearest example's), per version.
    const crowds = new Map<string, Map<string, PersonCrowd>>();
    for (const [v, list] of toDecide) {
      const nearest = list.flatMap(({ image, face }) => hitsOf.get(`${image}:${face}`)!.slice(0, 1).map((h) => h.personId));
      crowds.set(v, await this.#crowds.crowdsOf(r, v, nearest, counts.get(v)!));
    }
    const out: IndexedName[][] = [];
    for (const [i, image] of images.entries()) {
      const names: IndexedName[] = [];
      const perPerson = (image.embedVersion ? counts.get(image.embedVersion) : undefined) ?? new Map<string, { count: number; key: string }>();
      const crowdsHere = image.embedVersion ? crowds.get(image.embedVersion) : undefined;
      const gallery = { people: perPerson.size, examplesOf: (id: string) => perPerson.get(id)?.count ?? 0, crowdOf: (id: string) => crowdsHere?.get(id) };
      for (const [k, face] of image.faces.entries()) {
        const label = labelFor(labels.get(image.imageId) ?? [], face);
        if (label) {
          names.push({ personId: label.personId, name: label.name, source: 'hand', distance: null, label: { at: label.at, by: label.by } });
          continue;
        }
        const example = (examples.get(image.imageId) ?? []).find((e) => e.faceIndex === face.index);
        if (example) {
          const person = await r.people.byId(example.personId);
          names.push({ personId: example.personId, name: person?.name ?? null, source: 'enrolled', distance: 0 });
          continue;
        }
        const hits = hitsOf.get(`${i}:${k}`);
        if (hits) {
          const decision = decideName(hits, gallery, face.qualityOk, this.rule);
          const named = decision.kind === 'unknown' ? undefined : hits.find((h) => h.personId === decision.personId);
          if (decision.kind === 'name' && named) names.push({ personId: named.personId, name: named.name, source: 'auto', distance: round(decision.distance) });
          else if (decision.kind === 'suggestion' && named) names.push({ personId: null, name: null, source: null, distance: round(decision.distance), suggestion: { personId: named.personId, name: named.name, distance: round(decision.distance) } });
          else names.push({ personId: null, name: null, source: null, distance: decision.distance === null ? null : round(decision.distance) });
          continue;
        }
        // No example in the index: the gallery's own decision (same rule).
        if (face.match.name !== null && face.match.distance !== null) {
          const person = await r.people.ensure(face.match.name);
          names.push({ personId: person.id, name: person.name, source: 'auto', distance: face.match.distance });
        } else if (face.suggestion) {
          const person = await r.people.ensure(face.suggestion.name);
          names.push({ personId: null, name: null, source: null, distance: face.suggestion.distance, suggestion: { personId: person.id, name: person.name, distance: face.suggestion.distance } });
        } else names.push({ personId: null, name: null, source: null, distance: face.match.distance });
      }
      out.push(names);
    }
    return out;
  }
}

/** What the namer needs of a face. */
export interface FaceToName {
  index: number;
  box: Box;
  embedding: ArrayLike<number>;
  match: FaceMatch;
  qualityOk: boolean;
  suggestion?: { name: string; distance: number };
}

function labelFor<L extends { box: number[] }>(labels: readonly L[], face: { box: Box }): L | undefined {
  return labels.find((l) => l.box.length === 4 && iou(l.box as Box, face.box) >= LABEL_IOU);
}

const round = (x: number) => Math.round(x * 1e6) / 1e6;
