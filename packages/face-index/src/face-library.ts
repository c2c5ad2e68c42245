import { FacepipeError, isPersonName } from '@facepipe/core';
import type { ClusterCursor, ClusterSummary } from './cluster-repository.js';
import type { FaceIndex, FaceIndexRepositories } from './face-index.js';
import type { ConfidenceCursor, FaceHit, FacePrior, FaceState, ListedFace, PersonSource, SuggestedFace } from './face-repository.js';
import type { PeopleAction, PeopleAuditEntry } from './people-audit-repository.js';
import type { Person, PersonSummary } from './people-repository.js';
import { applyUndo, UndoConflict, type LabelPrior, type PersonPrior, type UndoSteps } from './people-undo.js';
import { DEFAULT_SEARCH_QUALITY, rankDistance, rankSearchHits } from './search-ranking.js';
import { CrowdCalibrator } from './crowd-calibrator.js';
import type { PersonCrowd } from './naming/crowd-calibration.js';
import { decideName, defaultNamingRule, withTolerance, type ExampleHit, type NamingRuleOptions } from './naming/naming-rule.js';

export interface FaceLibraryOptions {
  /** Largest distance at which a face is named after a person's example (FACEPIPE_MATCH_TOLERANCE). @defaultValue 0.6 */
  tolerance?: number;
  /** Faces looked at around each example when re-naming the library. @defaultValue 1000 */
  renameLimit?: number;
  /** The naming rule (its distances are capped by `tolerance`). @defaultValue defaultNamingRule */
  rule?: NamingRuleOptions;
}

/** What a change did, so callers can report it and bring result documents in step. */
export interface LibraryChange {
  person?: Person;
  /** Faces whose person changed. */
  faces: number;
  /** Images whose faces changed (their result documents are out of step until rewritten). */
  imageIds: string[];
}

/** Who a face is, as the index holds it. */
export interface FaceAnswer {
  name: string | null;
  /** How the name was given: `enrolled` (an example), `hand`, `auto`; null: nobody. */
  how: PersonSource | null;
  /** "Probably this person", when not named. */
  suggestion: string | null;
  /** The automatic answer's distance (to the nearest example). */
  distance: number | null;
}

/** One face whose answer a previewed operation would change. */
export interface PreviewedFace {
  imageId: string;
  faceIndex: number;
  source: string;
  before: FaceAnswer;
  after: FaceAnswer;
}

/** What an operation would do (nothing was done): the faces whose answer would change. */
export interface LibraryPreview {
  person: string;
  /** Faces whose person would change (as LibraryChange.faces). */
  faces: number;
  /** Every face whose answer would change: the examples first, then named, suggested, unnamed, each nearest first. */
  changes: PreviewedFace[];
}

/** How many faces of a preview would become examples, be named automatically, get a suggestion, or lose their name. */
export function tallyPreview(changes: readonly PreviewedFace[]): { examples: number; named: number; suggested: number; unnamed: number } {
  const count = (test: (f: PreviewedFace) => boolean) => changes.filter(test).length;
  return {
    examples: count((f) => f.after.how === 'enrolled'),
    named: count((f) => f.after.how === 'auto'),
    suggested: count((f) => f.after.name === null && f.after.suggestion !== null),
    unnamed: count((f) => f.after.name === null && f.before.name !== null),
  };
}

/** Who did a people operation: `key:<id>`, `token`, `open`; null: the local CLI. */
export type Actor = string | null;

/** What an undo did, or why it did nothing. */
export type UndoOutcome =
  | { kind: 'done'; entry: PeopleAuditEntry; change: LibraryChange }
  | { kind: 'nothing' }
  | { kind: 'stale'; newest: PeopleAuditEntry }
  | { kind: 'conflict'; entry: PeopleAuditEntry; message: string };

/**
 * People and clusters on the face index: naming a cluster (its faces become examples of the
 * person, like enrollment), enrolling, renaming, merging, hiding, deleting, naming one face by
 * hand, search by face. Whenever a person gains examples, faces across the library within the
 * tolerance of one of them are named at once through the vector index (no re-index); a name set
 * by hand or by enrollment is never changed automatically. Changes to faces run in
 * {@link FaceIndex.writeTransaction}, serialised with the classify stage's writes.
 */
export class FaceLibrary {
  readonly tolerance: number;
  readonly renameLimit: number;
  readonly rule: NamingRuleOptions;
  readonly #crowds: CrowdCalibrator;

  constructor(
    readonly index: FaceIndex,
    options: FaceLibraryOptions = {},
  ) {
    this.tolerance = options.tolerance ?? 0.6;
    this.renameLimit = options.renameLimit ?? 1000;
    const rule = options.rule ?? defaultNamingRule;
    this.rule = withTolerance(rule, this.tolerance);
    this.#crowds = new CrowdCalibrator(this.rule);
  }

  people(options: { includeHidden?: boolean } = {}): Promise<PersonSummary[]> {
    return this.index.repos.people.list(options);
  }

  /** Unnamed clusters, largest first; a page of `limit` after `after` when given. */
  clusters(page: { limit?: number; after?: ClusterCursor } = {}): Promise<ClusterSummary[]> {
    return this.index.repos.clusters.list(4, page);
  }

  /** Names a cluster: its faces become `name`'s examples, then matching faces across the library are named. */
  async nameCluster(clusterId: string, name: string, by: Actor = null): Promise<LibraryChange> {
    checkName(name);
    checkClusterId(clusterId);
    return this.index.writeTransaction(async (r) => (await this.#nameClusterIn(r, clusterId, name, by)).change);
  }

  /**
   * What naming a cluster would do, without doing it: the same steps in a transaction that is
   * rolled back, reporting every face whose answer would change (the cluster's own faces, faces
   * across the library named or given a suggestion, automatic names taken away), before and after.
   */
  async previewNameCluster(clusterId: string, name: string): Promise<LibraryPreview> {
    checkName(name);
    checkClusterId(clusterId);
    return this.#preview(async (r) => {
      const { change, priors } = await this.#nameClusterIn(r, clusterId, name, null);
      return { person: name, faces: change.faces, changes: await previewedChanges(r, priors) };
    });
  }

  async #nameClusterIn(r: FaceIndexRepositories, clusterId: string, name: string, by: Actor): Promise<{ change: LibraryChange; priors: FacePrior[] }> {
    const members = await r.clusters.members(clusterId);
    if (members.length === 0) throw new FacepipeError('OBJECT_NOT_FOUND', `cluster ${clusterId} does not exist or has no faces (see facepipe clusters)`);
    const existed = await r.people.byName(name);
    const priors = await r.faces.snapshot(members.map((m) => m.id));
    const examples = [];
    for (const m of members) {
      const e = await r.people.exampleOf(m.imageId, m.faceIndex);
      if (e) examples.push({ ...e, imageId: m.imageId, faceIndex: m.faceIndex });
    }
    const person = await r.people.ensure(name);
    await r.faces.setPerson(members.map((m) => m.id), person.id, 'enrolled');
    for (const m of members) await r.people.addExample(person.id, { imageId: m.imageId, faceIndex: m.faceIndex, source: m.source, origin: 'cluster' });
    const renamed = await this.#renameMatching(r, person.id, priors);
    await r.clusters.deleteEmpty();
    const imageIds = unique([...members.map((m) => m.imageId), ...renamed.imageIds]);
    await this.#audit(r, by, 'name-cluster', `named cluster ${clusterId} (${members.length} faces) ${name}${existed ? ' (an existing person)' : ''}`, {
      faces: priors,
      examplesAdded: members.map((m) => ({ imageId: m.imageId, faceIndex: m.faceIndex })),
      examples,
      createdPeople: existed ? [] : [person.id],
    }, [person.id], imageIds);
    return { change: { person, faces: members.length + renamed.faces, imageIds }, priors };
  }

  /** Runs a people operation in a write transaction and rolls it back: what it would do, nothing done. */
  async #preview<T>(run: (r: FaceIndexRepositories) => Promise<T>): Promise<T> {
    let preview: T | undefined;
    await this.index
      .writeTransaction(async (r) => {
        preview = await run(r);
        throw new RolledBack();
      })
      .catch((err: unknown) => {
        if (!(err instanceof RolledBack)) throw err;
      });
    return preview!;
  }

  /** Enrolls faces as examples of `name` (the gallery flow), then names matching faces across the library. */
  async enroll(name: string, examples: readonly { imageId: string; faceIndex: number; source: string }[]): Promise<LibraryChange> {
    checkName(name);
    return this.index.writeTransaction((r) => this.#enrollIn(r, name, examples));
  }

  /**
   * What enrolling these people would do, without doing it (one rolled-back transaction, each
   * person after the one before): per person, every face whose answer would change.
   */
  async previewEnroll(people: ReadonlyMap<string, readonly { imageId: string; faceIndex: number; source: string }[]>): Promise<LibraryPreview[]> {
    for (const name of people.keys()) checkName(name);
    return this.#preview(async (r) => {
      const out: LibraryPreview[] = [];
      for (const [name, examples] of people) {
        const ids: string[] = [];
        for (const e of examples) {
          const face = await r.faces.byImageAndIndex(e.imageId, e.faceIndex);
          if (face) ids.push(face.id);
        }
        const priors = await r.faces.snapshot(ids);
        const change = await this.#enrollIn(r, name, examples, priors);
        out.push({ person: name, faces: change.faces, changes: await previewedChanges(r, priors) });
      }
      return out;
    });
  }

  async #enrollIn(r: FaceIndexRepositories, name: string, examples: readonly { imageId: string; faceIndex: number; source: string }[], priors?: FacePrior[]): Promise<LibraryChange> {
    const person = await r.people.ensure(name);
    const faceIds: string[] = [];
    for (const e of examples) {
      const face = await r.faces.byImageAndIndex(e.imageId, e.faceIndex);
      if (!face) continue;
      faceIds.push(face.id);
      await r.people.addExample(person.id, { ...e, origin: 'enrollment' });
    }
    await r.faces.setPerson(faceIds, person.id, 'enrolled');
    const renamed = await this.#renameMatching(r, person.id, priors);
    await r.clusters.deleteEmpty();
    return { person, faces: faceIds.length + renamed.faces, imageIds: unique([...examples.map((e) => e.imageId), ...renamed.imageIds]) };
  }

  async rename(name: string, newName: string, by: Actor = null): Promise<LibraryChange> {
    checkName(newName);
    return this.index.transaction(async (r) => {
      const person = await this.#person(r, name);
      if (name !== newName && (await r.people.byName(newName))) throw new FacepipeError('INVALID_PAYLOAD', `"${newName}" already exists; use facepipe people merge "${name}" "${newName}"`);
      await r.people.rename(person.id, newName);
      const affected = await r.faces.imagesOfPerson(person.id);
      await this.#audit(r, by, 'rename', `renamed ${name} to ${newName}`, { rename: { personId: person.id, name } }, [person.id], affected.imageIds);
      return { person: { ...person, name: newName }, ...affected };
    });
  }

  async merge(from: string, into: string, by: Actor = null): Promise<LibraryChange> {
    return this.index.writeTransaction(async (r) => {
      const source = await this.#person(r, from);
      const target = await this.#person(r, into);
      if (source.id === target.id) throw new FacepipeError('INVALID_PAYLOAD', 'a person cannot be merged into themselves');
      const affected = await r.faces.imagesOfPerson(source.id);
      const prior = await this.#personPrior(r, source);
      await r.people.merge(source.id, target.id);
      const renamed = await this.#renameMatching(r, target.id, prior.faces);
      const imageIds = unique([...affected.imageIds, ...renamed.imageIds]);
      await this.#audit(r, by, 'merge', `merged ${from} (${affected.faces} faces) into ${into}`, { recreate: [prior.person], faces: prior.faces, examples: prior.examples, labels: prior.labels }, [source.id, target.id], imageIds);
      return { person: target, faces: affected.faces + renamed.faces, imageIds };
    });
  }

  async delete(name: string, by: Actor = null): Promise<LibraryChange> {
    return this.index.writeTransaction(async (r) => {
      const person = await this.#person(r, name);
      const affected = await r.faces.imagesOfPerson(person.id);
      const prior = await this.#personPrior(r, person);
      const byVersion = await r.faces.idsOfPersonByVersion(person.id);
      await r.people.delete(person.id);
      // Their faces are nobody's now: clustered again at once, like faces that just arrived.
      for (const [version, ids] of byVersion) await r.clusterer.addFaces(version, ids.map((id) => ({ id, inserted: true })));
      await this.#audit(r, by, 'delete', `deleted ${name} (${affected.faces} faces became nobody's)`, { recreate: [prior.person], faces: prior.faces, examples: prior.examples, labels: prior.labels }, [person.id], affected.imageIds);
      return { person, ...affected };
    });
  }

  async setHidden(name: string, hidden: boolean, by: Actor = null): Promise<Person> {
    return this.index.transaction(async (r) => {
      const person = await this.#person(r, name);
      await r.people.setHidden(person.id, hidden);
      if (person.hidden !== hidden) await this.#audit(r, by, hidden ? 'hide' : 'show', `${hidden ? 'hid' : 'showed'} ${name}`, { hidden: { personId: person.id, hidden: person.hidden } }, [person.id], []);
      return { ...person, hidden };
    });
  }

  /** One person with face counts and cover, hidden or not; 404 when nobody has the name. */
  async person(name: string): Promise<PersonSummary> {
    const found = await this.index.repos.people.list({ includeHidden: true, name });
    if (!found[0]) throw new FacepipeError('OBJECT_NOT_FOUND', `nobody is called "${name}" (see facepipe people)`);
    return found[0];
  }

  /** Sets the face shown for a person (one of their faces). */
  async setCover(name: string, imageId: string, faceIndex: number, by: Actor = null): Promise<PersonSummary> {
    await this.index.transaction(async (r) => {
      const person = await this.#person(r, name);
      const face = await r.faces.byImageAndIndex(imageId, faceIndex);
      if (!face || face.personId !== person.id) throw new FacepipeError('INVALID_PAYLOAD', `face ${faceIndex} of image ${imageId} is not one of ${name}'s faces`);
      const before = await r.people.coverFaceId(person.id);
      await r.people.setCover(person.id, face.id);
      await this.#audit(r, by, 'cover', `set the cover of ${name}`, { cover: { personId: person.id, faceId: before } }, [person.id], [imageId]);
    });
    return this.person(name);
  }

  /**
   * "Not this person" on a face: a face of a person leaves them (never named automatically as
   * them again; its example or hand label goes) and is clustered again; a face of a cluster
   * leaves the cluster and stays out of automatic grouping, as a face moved to nobody by hand
   * (a rebuild of the clusters leaves it alone; naming it by hand still works).
   */
  async rejectFace(imageId: string, faceIndex: number, by: Actor = null): Promise<{ face: FaceState; was: string | null; change: LibraryChange }> {
    return this.index.writeTransaction(async (r) => {
      const face = await r.faces.byImageAndIndex(imageId, faceIndex);
      if (!face) throw new FacepipeError('OBJECT_NOT_FOUND', `image ${imageId} has no face ${faceIndex} in the index`);
      const priors = await r.faces.snapshot([face.id]);
      if (face.personId !== null) {
        const example = await r.people.exampleOf(imageId, faceIndex);
        const label = await r.people.labelOfBox(imageId, face.box);
        await r.people.rejectSuggestion(imageId, faceIndex, face.personId);
        await r.people.removeExample(imageId, faceIndex);
        if (label) await r.people.clearLabel(imageId, face.box);
        await r.faces.setPerson([face.id], null, null);
        const own = await r.faces.embedding(face.id);
        if (own) await r.clusterer.addFaces(own.embedVersion, [{ id: face.id, inserted: true }]);
        await this.#audit(r, by, 'not-this-person', `face ${faceIndex} of ${imageId.slice(0, 12)}… is not ${face.name}`, {
          faces: priors,
          examples: example ? [{ ...example, imageId, faceIndex }] : [],
          labels: label ? [{ imageId, box: face.box, label }] : [],
          rejectionsAdded: [{ imageId, faceIndex, personId: face.personId }],
        }, [face.personId], [imageId]);
      } else if (face.clusterId !== null) {
        await r.faces.setPerson([face.id], null, 'hand');
        await r.clusters.deleteEmpty();
        await this.#audit(r, by, 'not-this-person', `face ${faceIndex} of ${imageId.slice(0, 12)}… left cluster ${face.clusterId}`, { faces: priors }, [], [imageId]);
      } else throw new FacepipeError('INVALID_PAYLOAD', `face ${faceIndex} of image ${imageId} has no person and no cluster`);
      return { face: (await r.faces.state(face.id))!, was: face.name, change: { faces: 1, imageIds: [imageId] } };
    });
  }

  /** "Not a face": kept by box like a hand label (never named nor clustered again); its person or cluster lets it go. */
  async markNotAFace(imageId: string, faceIndex: number, by: Actor = null): Promise<{ face: FaceState; was: string | null; change: LibraryChange }> {
    return this.index.writeTransaction(async (r) => {
      const face = await r.faces.byImageAndIndex(imageId, faceIndex);
      if (!face) throw new FacepipeError('OBJECT_NOT_FOUND', `image ${imageId} has no face ${faceIndex} in the index`);
      const priors = await r.faces.snapshot([face.id]);
      const example = await r.people.exampleOf(imageId, faceIndex);
      const label = (await r.people.labelOfBox(imageId, face.box)) ?? null;
      await r.people.setLabel(imageId, face.box, null, by, true);
      await r.people.removeExample(imageId, faceIndex);
      await r.faces.setPerson([face.id], null, 'hand');
      await r.clusters.deleteEmpty();
      await this.#audit(r, by, 'not-a-face', `face ${faceIndex} of ${imageId.slice(0, 12)}… is not a face${face.name ? ` (was ${face.name})` : ''}`, {
        faces: priors,
        examples: example ? [{ ...example, imageId, faceIndex }] : [],
        labels: [{ imageId, box: face.box, label }],
      }, face.personId ? [face.personId] : [], [imageId]);
      return { face: (await r.faces.state(face.id))!, was: face.name, change: { faces: 1, imageIds: [imageId] } };
    });
  }

  /** Sets a cluster aside ("ignore": no more offered for naming) or back. */
  async ignoreCluster(clusterId: string, ignored: boolean, by: Actor = null): Promise<{ clusterId: string; ignored: boolean }> {
    if (!/^\d{1,19}$/.test(clusterId)) throw new FacepipeError('OBJECT_NOT_FOUND', `no cluster ${clusterId}`);
    return this.index.transaction(async (r) => {
      const before = await r.clusters.ignored(clusterId);
      if (before === undefined) throw new FacepipeError('OBJECT_NOT_FOUND', `no cluster ${clusterId}`);
      await r.clusters.setIgnored(clusterId, ignored);
      if (before !== ignored) await this.#audit(r, by, 'ignore-cluster', `${ignored ? 'ignored' : 'stopped ignoring'} cluster ${clusterId}`, { clusterIgnored: { clusterId, ignored: before } }, [], []);
      return { clusterId, ignored };
    });
  }

  /** Every face of a cluster, a page at a time (`after`: the last face id of the previous page). */
  async facesOfCluster(clusterId: string, after: string | null, limit: number): Promise<ListedFace[]> {
    if (!/^\d{1,19}$/.test(clusterId) || (await this.index.repos.clusters.ignored(clusterId)) === undefined) throw new FacepipeError('OBJECT_NOT_FOUND', `no cluster ${clusterId}`);
    return this.index.repos.faces.ofCluster(clusterId, after, limit);
  }

  /** The people audit log, newest first, a page of `limit` older than entry `before`. */
  audit(before: string | null, limit: number): Promise<PeopleAuditEntry[]> {
    return this.index.repos.audit.list(before, limit);
  }

  /** The entry an undo would undo now. */
  newestUndoable(): Promise<PeopleAuditEntry | undefined> {
    return this.index.repos.audit.newestUndoable();
  }

  /**
   * Undoes the newest people operation not undone yet (`expected`: the entry the caller means;
   * another one newer is `stale`, nothing is done). The entry is marked undone by `by`.
   */
  async undo(expected: string | undefined, by: Actor = null): Promise<UndoOutcome> {
    return this.index.writeTransaction(async (r) => {
      const entry = await r.audit.newestUndoable();
      if (!entry) return { kind: 'nothing' as const };
      if (expected !== undefined && entry.id !== expected) return { kind: 'stale' as const, newest: entry };
      try {
        const done = await applyUndo(r, entry.undo as UndoSteps);
        if (done.recreated.size > 0) await r.audit.addPeople(entry.id, [...done.recreated.values()]);
        await r.audit.markUndone(entry.id, by ?? 'local');
        return { kind: 'done' as const, entry: { ...entry, undoneBy: by ?? 'local', undoneAt: new Date().toISOString() }, change: { faces: done.faces, imageIds: done.imageIds } };
      } catch (err) {
        if (err instanceof UndoConflict) return { kind: 'conflict' as const, entry, message: err.message };
        throw err;
      }
    });
  }

  /**
   * Names one face by hand (`null`: "this is nobody I know"). Kept by box, so it survives
   * re-processing with any model; the face then names matching faces like an example.
   */
  async labelFace(imageId: string, faceIndex: number, name: string | null, by: string | null = null): Promise<{ face: FaceState; change: LibraryChange }> {
    if (name !== null) checkName(name);
    return this.index.writeTransaction(async (r) => {
      const face = await r.faces.byImageAndIndex(imageId, faceIndex);
      if (!face) throw new FacepipeError('OBJECT_NOT_FOUND', `image ${imageId} has no face ${faceIndex} in the index`);
      const person = name === null ? null : await r.people.ensure(name);
      await r.people.setLabel(imageId, face.box, person?.id ?? null, by);
      await r.people.removeExample(imageId, faceIndex);
      await r.faces.setPerson([face.id], person?.id ?? null, 'hand');
      const renamed = person ? await this.#renameMatching(r, person.id) : { faces: 0, imageIds: [] };
      await r.clusters.deleteEmpty();
      return { face: (await r.faces.state(face.id))!, change: { ...(person ? { person } : {}), faces: 1 + renamed.faces, imageIds: unique([imageId, ...renamed.imageIds]) } };
    });
  }

  /** Faces with a suggestion waiting for an answer, a page at a time (`after`: the last face id of the previous page). */
  suggestions(after: string | null, limit: number): Promise<SuggestedFace[]> {
    return this.index.repos.faces.suggested(after, limit);
  }

  /**
   * Answers a suggestion: yes makes the face the suggested person's (as if named by hand: kept
   * through re-runs, and it names matching faces like an example); no records "not this person"
   * (never suggested nor named automatically as them again) and clears it.
   */
  async answerSuggestion(imageId: string, faceIndex: number, accept: boolean, by: string | null = null): Promise<{ face: FaceState; change: LibraryChange }> {
    const face = await this.index.repos.faces.byImageAndIndex(imageId, faceIndex);
    if (!face) throw new FacepipeError('OBJECT_NOT_FOUND', `image ${imageId} has no face ${faceIndex} in the index`);
    if (!face.suggestion) throw new FacepipeError('OBJECT_NOT_FOUND', `face ${faceIndex} of image ${imageId} has no suggestion (see facepipe people suggestions)`);
    if (accept) return this.labelFace(imageId, faceIndex, face.suggestion.name, by);
    const suggested = face.suggestion;
    return this.index.writeTransaction(async (r) => {
      await r.people.rejectSuggestion(imageId, faceIndex, suggested.personId);
      await r.faces.setSuggestion(face.id, null);
      return { face: (await r.faces.state(face.id))!, change: { faces: 1, imageIds: [imageId] } };
    });
  }

  /** Removes a hand label: the face is named automatically again at its next classification. */
  async clearLabel(imageId: string, faceIndex: number): Promise<FaceState> {
    return this.index.writeTransaction(async (r) => {
      const face = await r.faces.byImageAndIndex(imageId, faceIndex);
      if (!face) throw new FacepipeError('OBJECT_NOT_FOUND', `image ${imageId} has no face ${faceIndex} in the index`);
      await r.people.clearLabel(imageId, face.box);
      if (face.personSource === 'hand') await r.faces.setPerson([face.id], null, null);
      return (await r.faces.state(face.id))!;
    });
  }

  /** Removes an enrolled example; the face is nobody's until it is classified again. */
  async removeExample(imageId: string, faceIndex: number): Promise<void> {
    await this.index.writeTransaction(async (r) => {
      await r.people.removeExample(imageId, faceIndex);
      const face = await r.faces.byImageAndIndex(imageId, faceIndex);
      if (face?.personSource === 'enrolled') await r.faces.setPerson([face.id], null, null);
    });
  }

  /**
   * Library faces nearest to `embedding` (HNSW, approximate), nearest first, a face flagged small,
   * blurred or cut by the border (`quality` 0) ranked as if `penalty` farther (search-ranking.ts).
   * Fetches more candidates than `limit` until none left unfetched could still rank among them.
   */
  search(embedding: ArrayLike<number>, embedVersion: string, limit: number, penalty = DEFAULT_SEARCH_QUALITY.penalty): Promise<FaceHit[]> {
    const flagged = (h: FaceHit) => h.quality === 0;
    return this.index.transaction(async (r) => {
      for (let fetch = limit * 2 + 20; ; fetch *= 2) {
        const hits = await r.faces.nearest(embedding, { embedVersion, limit: fetch });
        const ranked = rankSearchHits(hits, flagged, penalty).slice(0, limit);
        const last = ranked.at(-1);
        // Every face not fetched is at least as far as the farthest fetched one.
        if (hits.length < fetch || !last || hits.at(-1)!.distance >= rankDistance(last.distance, flagged(last), penalty)) return ranked;
      }
    });
  }

  /** A person's faces, a page at a time (`after`: the last face id of the previous page). */
  async facesOf(name: string, after: string | null, limit: number): Promise<ListedFace[]> {
    const person = await this.#person(this.index.repos, name);
    return this.index.repos.faces.ofPerson(person.id, after, limit);
  }

  /** A person's faces by confidence (enrolled and by hand first, then automatic nearest first), a page after `after`. */
  async facesByConfidence(name: string, after: ConfidenceCursor | null, limit: number): Promise<ListedFace[]> {
    const person = await this.#person(this.index.repos, name);
    return this.index.repos.faces.ofPersonByConfidence(person.id, after, limit);
  }

  /**
   * After a person gained examples: every face near one of them (what automatic naming may change)
   * is decided again by the naming rule on the whole gallery — named, given a suggestion, or (an
   * automatic name the evidence no longer supports) made nobody's again and clustered.
   */
  async #renameMatching(r: FaceIndexRepositories, personId: string, priors?: FacePrior[]): Promise<{ faces: number; imageIds: string[] }> {
    const candidates = new Map<string, RenameCandidate>();
    for (const ref of await r.faces.referenceFaces(personId)) {
      const hits = await r.faces.nearest(ref.embedding, { embedVersion: ref.embedVersion, limit: this.renameLimit, maxDistance: Math.min(this.tolerance, this.rule.suggestDistance), autoOnly: true });
      for (const h of hits) candidates.set(h.id, { imageId: h.imageId, faceIndex: h.faceIndex, embedVersion: h.embedVersion, personId: h.personId, qualityOk: h.qualityOk, suggestion: h.suggestion?.personId ?? null });
    }
    const counts = new Map<string, Map<string, { count: number; key: string }>>();
    const changed = new Set<string>();
    // What an undo puts back: every candidate as it was (those left unchanged restore to themselves).
    if (priors) priors.push(...(await r.faces.snapshot([...candidates.keys()])));
    const unnamed: { id: string; embedVersion: string }[] = [];
    // Every candidate's nearest examples first, so the crowds of the people they are nearest are counted once.
    const decisions: { faceId: string; c: RenameCandidate; hits: ExampleHit[] }[] = [];
    for (const [faceId, c] of candidates) {
      if (!counts.has(c.embedVersion)) counts.set(c.embedVersion, await r.faces.examplesByPerson(c.embedVersion));
      const own = await r.faces.embedding(faceId);
      if (!own) continue;
      const rejected = (await r.people.rejectionsOfImage(c.imageId)).get(c.faceIndex) ?? [];
      decisions.push({ faceId, c, hits: await r.faces.nearestReferences(own.embedding, c.embedVersion, 32, rejected) });
    }
    const crowds = new Map<string, Map<string, PersonCrowd>>();
    for (const version of new Set(decisions.map((x) => x.c.embedVersion))) {
      const nearest = decisions.filter((x) => x.c.embedVersion === version).flatMap((x) => [...x.hits].sort((a, b) => a.distance - b.distance).slice(0, 1).map((h) => h.personId));
      crowds.set(version, await this.#crowds.crowdsOf(r, version, nearest, counts.get(version)!));
    }
    for (const { faceId, c, hits } of decisions) {
      const perPerson = counts.get(c.embedVersion)!;
      const crowdsHere = crowds.get(c.embedVersion);
      const d = decideName(hits, { people: perPerson.size, examplesOf: (id) => perPerson.get(id)?.count ?? 0, crowdOf: (id) => crowdsHere?.get(id) }, c.qualityOk, this.rule);
      if (d.kind === 'name') {
        if (c.personId === d.personId) continue;
        await r.faces.setPerson([faceId], d.personId, 'auto', round(d.distance));
        changed.add(faceId);
      } else {
        if (c.personId !== null) {
          await r.faces.setPerson([faceId], null, null);
          unnamed.push({ id: faceId, embedVersion: c.embedVersion });
          changed.add(faceId);
        }
        const suggestion = d.kind === 'suggestion' ? { personId: d.personId, distance: round(d.distance) } : null;
        if ((suggestion?.personId ?? null) !== c.suggestion) {
          await r.faces.setSuggestion(faceId, suggestion);
          changed.add(faceId);
        }
      }
    }
    for (const version of new Set(unnamed.map((u) => u.embedVersion))) await r.clusterer.addFaces(version, unnamed.filter((u) => u.embedVersion === version));
    return { faces: changed.size, imageIds: unique([...changed].map((id) => candidates.get(id)!.imageId)) };
  }

  /** A person as they are, with what removing them changes: faces, examples, hand labels. */
  async #personPrior(r: FaceIndexRepositories, person: Person): Promise<{ person: PersonPrior; faces: FacePrior[]; examples: Awaited<ReturnType<FaceIndexRepositories['people']['examplesOf']>>; labels: LabelPrior[] }> {
    return {
      person: { id: person.id, name: person.name, hidden: person.hidden, coverFaceId: await r.people.coverFaceId(person.id) },
      faces: await r.faces.snapshot(await r.faces.idsOfPerson(person.id)),
      examples: await r.people.examplesOf(person.id),
      labels: await r.people.labelsOf(person.id),
    };
  }

  async #audit(r: FaceIndexRepositories, by: Actor, action: PeopleAction, summary: string, undo: UndoSteps, personIds: string[], imageIds: string[]): Promise<void> {
    // Every image and person the entry mentions, so an erasure of any of them finds it.
    const mentioned = { imageIds: new Set(imageIds), personIds: new Set(personIds) };
    JSON.stringify(undo, (key, value: unknown) => {
      if (key === 'imageId' && typeof value === 'string') mentioned.imageIds.add(value);
      if ((key === 'personId' || key === 'suggestedPersonId') && typeof value === 'string') mentioned.personIds.add(value);
      return value;
    });
    for (const p of undo.recreate ?? []) mentioned.personIds.add(p.id);
    await r.audit.record({ actor: by ?? 'local', action, summary, undo, personIds: [...mentioned.personIds], imageIds: [...mentioned.imageIds] });
  }

  async #person(r: FaceIndexRepositories, name: string): Promise<Person> {
    const person = await r.people.byName(name);
    if (!person) throw new FacepipeError('OBJECT_NOT_FOUND', `nobody is called "${name}" (see facepipe people)`);
    return person;
  }

}

/** Thrown to roll a preview's transaction back. */
class RolledBack extends Error {}

function checkClusterId(clusterId: string): void {
  if (!/^\d+$/.test(clusterId)) throw new FacepipeError('INVALID_PAYLOAD', `"${clusterId}" is not a cluster id (see facepipe clusters)`);
}

/** The faces among `priors` whose answer changed since the snapshot, before and after. */
async function previewedChanges(r: FaceIndexRepositories, priors: readonly FacePrior[]): Promise<PreviewedFace[]> {
  const before = new Map<string, FacePrior>();
  for (const p of priors) if (!before.has(p.id)) before.set(p.id, p);
  const names = new Map<string, string | null>();
  const nameOf = async (id: string | null) => {
    if (id === null) return null;
    if (!names.has(id)) names.set(id, (await r.people.byId(id))?.name ?? null);
    return names.get(id)!;
  };
  const out: PreviewedFace[] = [];
  for (const now of await r.faces.listedByIds([...before.keys()])) {
    const was = before.get(now.id)!;
    if (was.personId === now.personId && was.source === now.personSource && was.suggestedPersonId === (now.suggestion?.personId ?? null)) continue;
    out.push({
      imageId: now.imageId,
      faceIndex: now.faceIndex,
      source: now.source,
      before: { name: await nameOf(was.personId), how: was.source, suggestion: await nameOf(was.suggestedPersonId), distance: was.personId !== null ? was.distance : was.suggestedDistance },
      after: { name: now.name, how: now.personSource, suggestion: now.suggestion?.name ?? null, distance: now.personId !== null ? now.matchDistance : (now.suggestion?.distance ?? null) },
    });
  }
  const rank = (a: FaceAnswer) => (a.how === 'enrolled' || a.how === 'hand' ? 0 : a.name !== null ? 1 : a.suggestion !== null ? 2 : 3);
  return out.sort((x, y) => rank(x.after) - rank(y.after) || (x.after.distance ?? 0) - (y.after.distance ?? 0) || (x.imageId < y.imageId ? -1 : 1) || x.faceIndex - y.faceIndex);
}

function checkName(name: string): void {
  if (!isPersonName(name)) throw new FacepipeError('INVALID_PAYLOAD', `"${name}" is not a valid name (letters, digits, space . _ ' -; at most 100)`);
}

/** A face near a person's new examples, as it was before being decided again. */
interface RenameCandidate {
  imageId: string;
  faceIndex: number;
  embedVersion: string;
  personId: string | null;
  qualityOk: boolean;
  suggestion: string | null;
}

const unique = <T>(xs: readonly T[]) => [...new Set(xs)];
const round = (x: number) => Math.round(x * 1e6) / 1e6;
