import type { FaceIndexRepositories } from './face-index.js';
import type { FacePrior } from './face-repository.js';

/** A person as they were, to be made again (merged away or deleted). */
export interface PersonPrior {
  id: string;
  name: string;
  hidden: boolean;
  coverFaceId: string | null;
}

/** A hand label of a box as it was (null: there was none). */
export interface LabelPrior {
  imageId: string;
  box: number[];
  label: { personId: string | null; by: string | null; notFace: boolean } | null;
}

/** An enrollment example as it was. */
export interface ExamplePrior {
  personId: string;
  imageId: string;
  faceIndex: number;
  source: string;
  origin: 'enrollment' | 'cluster';
}

/**
 * What undoes one people operation, recorded with it in the audit log: the rows it changed as
 * they were. Applied in a fixed order (people first, so faces can point at them again).
 */
export interface UndoSteps {
  /** People the operation removed, made again under their name (with a new id). */
  recreate?: PersonPrior[];
  rename?: { personId: string; name: string };
  hidden?: { personId: string; hidden: boolean };
  cover?: { personId: string; faceId: string | null };
  clusterIgnored?: { clusterId: string; ignored: boolean };
  /** Faces as they were (first snapshot of a face wins). */
  faces?: FacePrior[];
  /** Examples the operation added (removed by the undo). */
  examplesAdded?: { imageId: string; faceIndex: number }[];
  /** Examples as they were (put back). */
  examples?: ExamplePrior[];
  labels?: LabelPrior[];
  /** "Not this person" answers the operation recorded (taken back). */
  rejectionsAdded?: { imageId: string; faceIndex: number; personId: string }[];
  /** People the operation created: removed again once no face is theirs. */
  createdPeople?: string[];
}

/** Applies undo steps in the caller's write transaction; returns the images whose faces changed and the people made again (old id → new). */
export async function applyUndo(r: FaceIndexRepositories, steps: UndoSteps): Promise<{ imageIds: string[]; faces: number; recreated: Map<string, string> }> {
  const recreated = new Map<string, string>();
  for (const p of steps.recreate ?? []) {
    if (await r.people.byName(p.name)) throw new UndoConflict(`"${p.name}" exists again: rename or merge them first`);
    const person = await r.people.ensure(p.name);
    await r.people.setHidden(person.id, p.hidden);
    recreated.set(p.id, person.id);
  }
  const mapped = (id: string) => recreated.get(id) ?? id;
  if (steps.rename) {
    const taken = await r.people.byName(steps.rename.name);
    if (taken && taken.id !== steps.rename.personId) throw new UndoConflict(`"${steps.rename.name}" is someone else's name now`);
    if (!(await r.people.byId(steps.rename.personId))) throw new UndoConflict('the person renamed is gone');
    await r.people.rename(steps.rename.personId, steps.rename.name);
  }
  if (steps.hidden) await r.people.setHidden(steps.hidden.personId, steps.hidden.hidden);
  if (steps.clusterIgnored) await r.clusters.setIgnored(steps.clusterIgnored.clusterId, steps.clusterIgnored.ignored);
  const seen = new Set<string>();
  const faces = (steps.faces ?? []).filter((f) => !seen.has(f.id) && seen.add(f.id));
  const imageIds = await r.faces.restore(faces, recreated);
  for (const e of steps.examplesAdded ?? []) await r.people.removeExample(e.imageId, e.faceIndex);
  for (const e of steps.examples ?? []) if (await r.people.byId(mapped(e.personId))) await r.people.addExample(mapped(e.personId), e);
  for (const l of steps.labels ?? []) {
    if (l.label === null) await r.people.clearLabel(l.imageId, l.box);
    else await r.people.setLabel(l.imageId, l.box, l.label.personId === null ? null : mapped(l.label.personId), l.label.by, l.label.notFace);
  }
  for (const x of steps.rejectionsAdded ?? []) await r.people.unrejectSuggestion(x.imageId, x.faceIndex, x.personId);
  for (const p of recreated.values()) {
    const cover = steps.recreate?.find((x) => recreated.get(x.id) === p)?.coverFaceId ?? null;
    if (cover !== null) await r.people.setCover(p, cover);
  }
  if (steps.cover) await r.people.setCover(steps.cover.personId, steps.cover.faceId);
  for (const id of steps.createdPeople ?? []) if ((await r.faces.imagesOfPerson(id)).faces === 0) await r.people.delete(id);
  await r.clusters.deleteEmpty();
  return { imageIds, faces: faces.length, recreated };
}

/** An undo the library's state no longer allows (a name taken since, a person gone). */
export class UndoConflict extends Error {}
