import type { Box, FaceMatch } from '@facepipe/core';
import type { FaceIndexRepositories, PersonSource } from '@facepipe/face-index';
import { iou } from '@facepipe/vision';

/** Overlap at which a name given to a box carries over to a face detected in a re-run. */
export const LABEL_IOU = 0.5;

/** Who a face is, as the index decides it. */
export interface IndexedName {
  personId: string | null;
  name: string | null;
  source: PersonSource | null;
  distance: number | null;
  /** Set when the name was given by hand. */
  label?: { at: string; by: string | null };
}

/**
 * Names faces against the face index, in the classify job's transaction, in this order: a name
 * set by hand on the box (also "nobody"), the face's own enrollment (incl. a named cluster), then
 * the nearer of the gallery's automatic match and the nearest example face in the index (enrolled,
 * from a named cluster, or named by hand) within the tolerance.
 */
export class IndexNamer {
  constructor(readonly tolerance: number) {}

  async name(
    r: FaceIndexRepositories,
    imageId: string,
    embedVersion: string | null,
    faces: readonly { index: number; box: Box; embedding: ArrayLike<number>; match: FaceMatch }[],
  ): Promise<IndexedName[]> {
    if (faces.length === 0) return [];
    const [labels, examples] = await Promise.all([r.people.labelsOfImage(imageId), r.people.examplesOfImage(imageId)]);
    const out: IndexedName[] = [];
    for (const face of faces) {
      const label = labels.find((l) => l.box.length === 4 && iou(l.box as Box, face.box) >= LABEL_IOU);
      if (label) {
        out.push({ personId: label.personId, name: label.name, source: 'hand', distance: null, label: { at: label.at, by: label.by } });
        continue;
      }
      const example = examples.find((e) => e.faceIndex === face.index);
      if (example) {
        const { rows } = await r.db.query<{ name: string }>('SELECT name FROM people WHERE id = $1', [example.personId]);
        out.push({ personId: example.personId, name: rows[0]?.name ?? null, source: 'enrolled', distance: 0 });
        continue;
      }
      const reference = embedVersion && face.embedding.length > 0 ? await r.faces.nearestReference(face.embedding, embedVersion, this.tolerance) : undefined;
      const gallery = face.match.name !== null && face.match.distance !== null ? { name: face.match.name, distance: face.match.distance } : undefined;
      if (reference && (!gallery || reference.distance <= gallery.distance)) {
        out.push({ personId: reference.personId, name: reference.name, source: 'auto', distance: round(reference.distance) });
      } else if (gallery) {
        const person = await r.people.ensure(gallery.name);
        out.push({ personId: person.id, name: person.name, source: 'auto', distance: gallery.distance });
      } else out.push({ personId: null, name: null, source: null, distance: null });
    }
    return out;
  }
}

const round = (x: number) => Math.round(x * 1e6) / 1e6;
