import { FacepipeError, isPersonName } from '@facepipe/core';
import type { ClusterCursor, ClusterSummary } from './cluster-repository.js';
import type { FaceIndex, FaceIndexRepositories } from './face-index.js';
import type { FaceHit, FaceState } from './face-repository.js';
import type { Person, PersonSummary } from './people-repository.js';
import { DEFAULT_SEARCH_QUALITY, rankDistance, rankSearchHits } from './search-ranking.js';

export interface FaceLibraryOptions {
  /** Largest distance at which a face is named after a person's example (FACEPIPE_MATCH_TOLERANCE). @defaultValue 0.6 */
  tolerance?: number;
  /** Faces looked at around each example when re-naming the library. @defaultValue 1000 */
  renameLimit?: number;
}

/** What a change did, so callers can report it and bring result documents in step. */
export interface LibraryChange {
  person?: Person;
  /** Faces whose person changed. */
  faces: number;
  /** Images whose faces changed (their result documents are out of step until rewritten). */
  imageIds: string[];
}

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

  constructor(
    readonly index: FaceIndex,
    options: FaceLibraryOptions = {},
  ) {
    this.tolerance = options.tolerance ?? 0.6;
    this.renameLimit = options.renameLimit ?? 1000;
  }

  people(options: { includeHidden?: boolean } = {}): Promise<PersonSummary[]> {
    return this.index.repos.people.list(options);
  }

  /** Unnamed clusters, largest first; a page of `limit` after `after` when given. */
  clusters(page: { limit?: number; after?: ClusterCursor } = {}): Promise<ClusterSummary[]> {
    return this.index.repos.clusters.list(4, page);
  }

  /** Names a cluster: its faces become `name`'s examples, then matching faces across the library are named. */
  async nameCluster(clusterId: string, name: string): Promise<LibraryChange> {
    checkName(name);
    if (!/^\d+$/.test(clusterId)) throw new FacepipeError('INVALID_PAYLOAD', `"${clusterId}" is not a cluster id (see facepipe clusters)`);
    return this.index.writeTransaction(async (r) => {
      const members = await r.clusters.members(clusterId);
      if (members.length === 0) throw new FacepipeError('OBJECT_NOT_FOUND', `cluster ${clusterId} does not exist or has no faces (see facepipe clusters)`);
      const person = await r.people.ensure(name);
      await r.faces.setPerson(members.map((m) => m.id), person.id, 'enrolled');
      for (const m of members) await r.people.addExample(person.id, { imageId: m.imageId, faceIndex: m.faceIndex, source: m.source, origin: 'cluster' });
      const renamed = await this.#renameMatching(r, person.id);
      await r.clusters.deleteEmpty();
      return { person, faces: members.length + renamed.faces, imageIds: unique([...members.map((m) => m.imageId), ...renamed.imageIds]) };
    });
  }

  /** Enrolls faces as examples of `name` (the gallery flow), then names matching faces across the library. */
  async enroll(name: string, examples: readonly { imageId: string; faceIndex: number; source: string }[]): Promise<LibraryChange> {
    checkName(name);
    return this.index.writeTransaction(async (r) => {
      const person = await r.people.ensure(name);
      const faceIds: string[] = [];
      for (const e of examples) {
        const face = await r.faces.byImageAndIndex(e.imageId, e.faceIndex);
        if (!face) continue;
        faceIds.push(face.id);
        await r.people.addExample(person.id, { ...e, origin: 'enrollment' });
      }
      await r.faces.setPerson(faceIds, person.id, 'enrolled');
      const renamed = await this.#renameMatching(r, person.id);
      await r.clusters.deleteEmpty();
      return { person, faces: faceIds.length + renamed.faces, imageIds: unique([...examples.map((e) => e.imageId), ...renamed.imageIds]) };
    });
  }

  async rename(name: string, newName: string): Promise<LibraryChange> {
    checkName(newName);
    return this.index.transaction(async (r) => {
      const person = await this.#person(r, name);
      if (name !== newName && (await r.people.byName(newName))) throw new FacepipeError('INVALID_PAYLOAD', `"${newName}" already exists; use facepipe people merge "${name}" "${newName}"`);
      await r.people.rename(person.id, newName);
      return { person: { ...person, name: newName }, ...(await this.#imagesOf(r, person.id)) };
    });
  }

  async merge(from: string, into: string): Promise<LibraryChange> {
    return this.index.writeTransaction(async (r) => {
      const source = await this.#person(r, from);
      const target = await this.#person(r, into);
      if (source.id === target.id) throw new FacepipeError('INVALID_PAYLOAD', 'a person cannot be merged into themselves');
      const affected = await this.#imagesOf(r, source.id);
      await r.people.merge(source.id, target.id);
      const renamed = await this.#renameMatching(r, target.id);
      return { person: target, faces: affected.faces + renamed.faces, imageIds: unique([...affected.imageIds, ...renamed.imageIds]) };
    });
  }

  async delete(name: string): Promise<LibraryChange> {
    return this.index.writeTransaction(async (r) => {
      const person = await this.#person(r, name);
      const affected = await this.#imagesOf(r, person.id);
      const { rows } = await r.db.query<{ id: string; embed_version: string }>('SELECT id, embed_version FROM faces WHERE person_id = $1', [person.id]);
      await r.people.delete(person.id);
      // Their faces are nobody's now: clustered again at once, like faces that just arrived.
      const byVersion = new Map<string, string[]>();
      for (const f of rows) byVersion.set(f.embed_version, [...(byVersion.get(f.embed_version) ?? []), f.id]);
      for (const [version, ids] of byVersion) await r.clusterer.addFaces(version, ids.map((id) => ({ id, inserted: true })));
      return { person, ...affected };
    });
  }

  async setHidden(name: string, hidden: boolean): Promise<Person> {
    return this.index.transaction(async (r) => {
      const person = await this.#person(r, name);
      await r.people.setHidden(person.id, hidden);
      return { ...person, hidden };
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
  async facesOf(name: string, after: string | null, limit: number): Promise<(FaceState & { source: string })[]> {
    const person = await this.#person(this.index.repos, name);
    return this.index.repos.faces.ofPerson(person.id, after, limit);
  }

  /** Names faces near any example of the person, unless they are already closer to someone else or set by hand. */
  async #renameMatching(r: FaceIndexRepositories, personId: string): Promise<{ faces: number; imageIds: string[] }> {
    const changed = new Map<string, { imageId: string; distance: number }>();
    for (const ref of await r.faces.referenceFaces(personId)) {
      const hits = await r.faces.nearest(ref.embedding, { embedVersion: ref.embedVersion, limit: this.renameLimit, maxDistance: this.tolerance, autoOnly: true });
      for (const h of hits) {
        const best = changed.get(h.id)?.distance ?? (h.personId === null || h.matchDistance === null ? Infinity : h.matchDistance);
        if (h.distance < best) changed.set(h.id, { imageId: h.imageId, distance: h.distance });
      }
    }
    for (const [faceId, { distance }] of changed) await r.faces.setPerson([faceId], personId, 'auto', round(distance));
    return { faces: changed.size, imageIds: unique([...changed.values()].map((c) => c.imageId)) };
  }

  async #person(r: FaceIndexRepositories, name: string): Promise<Person> {
    const person = await r.people.byName(name);
    if (!person) throw new FacepipeError('OBJECT_NOT_FOUND', `nobody is called "${name}" (see facepipe people)`);
    return person;
  }

  async #imagesOf(r: FaceIndexRepositories, personId: string): Promise<{ faces: number; imageIds: string[] }> {
    const { rows } = await r.db.query<{ image_id: string; n: string }>('SELECT image_id, count(*) AS n FROM faces WHERE person_id = $1 GROUP BY image_id', [personId]);
    return { faces: rows.reduce((s, x) => s + Number(x.n), 0), imageIds: rows.map((x) => x.image_id) };
  }
}

function checkName(name: string): void {
  if (!isPersonName(name)) throw new FacepipeError('INVALID_PAYLOAD', `"${name}" is not a valid name (letters, digits, space . _ ' -; at most 100)`);
}

const unique = <T>(xs: readonly T[]) => [...new Set(xs)];
const round = (x: number) => Math.round(x * 1e6) / 1e6;
