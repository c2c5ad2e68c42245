import type { Box, FaceMatch } from '@facepipe/core';
import { decideName, defaultNamingRule, type FaceIndexRepositories, type NamingRuleOptions, type PersonSource } from '@facepipe/face-index';
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
 * person, a threshold tightened as the gallery grows, the quality gate) over the example faces in
 * the index (enrolled, from named clusters, named by hand) — a name, a suggestion, or unknown.
 * People a face was said not to be (a rejected suggestion) are left out of its evidence. With no
 * example in the index, the gallery's match (which applies the same rule) is used.
 */
export class IndexNamer {
  constructor(readonly rule: NamingRuleOptions = defaultNamingRule) {}

  async name(
    r: FaceIndexRepositories,
    imageId: string,
    embedVersion: string | null,
    faces: readonly { index: number; box: Box; embedding: ArrayLike<number>; match: FaceMatch; qualityOk: boolean; suggestion?: { name: string; distance: number } }[],
  ): Promise<IndexedName[]> {
    if (faces.length === 0) return [];
    // One after another: they share the transaction's client, which runs one query at a time
    // (pg deprecates queuing on a busy client).
    const labels = await r.people.labelsOfImage(imageId);
    const examples = await r.people.examplesOfImage(imageId);
    const rejections = await r.people.rejectionsOfImage(imageId);
    const counts = embedVersion ? await r.faces.referenceCounts(embedVersion) : new Map<string, number>();
    const gallery = { people: counts.size, examplesOf: (id: string) => counts.get(id) ?? 0 };
    const out: IndexedName[] = [];
    for (const face of faces) {
      const label = labels.find((l) => l.box.length === 4 && iou(l.box as Box, face.box) >= LABEL_IOU);
      if (label) {
        out.push({ personId: label.personId, name: label.name, source: 'hand', distance: null, label: { at: label.at, by: label.by } });
        continue;
      }
      const example = examples.find((e) => e.faceIndex === face.index);
      if (example) {
        const person = await r.people.byId(example.personId);
        out.push({ personId: example.personId, name: person?.name ?? null, source: 'enrolled', distance: 0 });
        continue;
      }
      if (counts.size > 0 && embedVersion && face.embedding.length > 0) {
        const hits = await r.faces.nearestReferences(face.embedding, embedVersion, REFERENCE_HITS, rejections.get(face.index) ?? []);
        const decision = decideName(hits, gallery, face.qualityOk, this.rule);
        const named = decision.kind === 'unknown' ? undefined : hits.find((h) => h.personId === decision.personId);
        if (decision.kind === 'name' && named) out.push({ personId: named.personId, name: named.name, source: 'auto', distance: round(decision.distance) });
        else if (decision.kind === 'suggestion' && named) out.push({ personId: null, name: null, source: null, distance: round(decision.distance), suggestion: { personId: named.personId, name: named.name, distance: round(decision.distance) } });
        else out.push({ personId: null, name: null, source: null, distance: decision.distance === null ? null : round(decision.distance) });
        continue;
      }
      // No example in the index: the gallery's own decision (same rule).
      if (face.match.name !== null && face.match.distance !== null) {
        const person = await r.people.ensure(face.match.name);
        out.push({ personId: person.id, name: person.name, source: 'auto', distance: face.match.distance });
      } else if (face.suggestion) {
        const person = await r.people.ensure(face.suggestion.name);
        out.push({ personId: null, name: null, source: null, distance: face.suggestion.distance, suggestion: { personId: person.id, name: person.name, distance: face.suggestion.distance } });
      } else out.push({ personId: null, name: null, source: null, distance: face.match.distance });
    }
    return out;
  }
}

const round = (x: number) => Math.round(x * 1e6) / 1e6;
