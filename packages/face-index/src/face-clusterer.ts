import { stableClusterIds } from './clustering/cluster-metrics.js';
import { contextReach, defaultSupportedClustering, MemoryClusterStore, placeFace, type ClusterFace, type ClusterNeighbour, type ClusterStore, type SupportedClusteringOptions } from './clustering/supported-clustering.js';
import { ClusterRepository } from './cluster-repository.js';
import { FaceRepository } from './face-repository.js';
import { lockFaceWrites } from './face-write-lock.js';
import type { Queryable } from './queryable.js';

/**
 * The index's clustering settings: the supported-clustering rule's own (FACEPIPE_CLUSTER_MAX_DISTANCE,
 * FACEPIPE_CLUSTER_MIN_FACES, FACEPIPE_CLUSTER_MAX_LINKAGE set the first three).
 */
export type ClusteringOptions = SupportedClusteringOptions;

/** A clusterable face of a micro-batch as written (FaceClusterer.placeBatch). */
export interface BatchFace extends ClusterFace {
  /** Its row is new (false: it was in the index already, e.g. a redelivered job). */
  inserted: boolean;
  /** Its cluster after the write (a face already in one stays). */
  clusterId: string | null;
}

export const defaultClusteringOptions: Required<ClusteringOptions> = defaultSupportedClustering;

/**
 * Groups faces nobody has named and that passed the quality gate, with the whole group's support
 * (`placeFace`, clustering/supported-clustering.ts): a face joins a cluster only when several of its
 * members are near and it is near the cluster on average; two clusters merge only when their
 * average linkage is small; looser distances count only where no look-alike is as near (a clear
 * join, a mutual-nearest pair, fragments of one person); two faces of one photo never share a
 * cluster. Incremental:
 * {@link FaceClusterer.addFaces} runs per classified image inside its transaction, with HNSW
 * neighbours. {@link FaceClusterer.recluster} replays every face in arrival (id) order with the
 * same rule, so the two agree; cluster ids are kept by majority (stableClusterIds). Faces with a
 * person (named automatically, by hand, or enrolled) are never clustered nor moved.
 */
export class FaceClusterer {
  readonly options: Required<ClusteringOptions>;
  readonly #faces: FaceRepository;
  readonly #clusters: ClusterRepository;

  constructor(
    readonly db: Queryable,
    options: Partial<ClusteringOptions> = {},
  ) {
    this.options = { ...defaultClusteringOptions, ...options };
    this.#faces = new FaceRepository(db);
    this.#clusters = new ClusterRepository(db);
  }


  /** Places newly written unnamed faces (a face already in a cluster, e.g. on a retried job, stays). */
  async addFaces(embedVersion: string, faces: readonly { id: string; inserted?: boolean }[]): Promise<void> {
    if (faces.length === 0) return;
    await this.#lock();
    const placing = { id: '0', imageId: '' };
    const store = this.#store(embedVersion, placing);
    for (const face of faces) {
      const state = await this.#faces.state(face.id);
      if (!state || state.personId !== null || state.personSource !== null || !state.qualityOk || state.clusterId !== null) continue;
      const own = await this.#faces.embedding(face.id);
      if (!own) continue;
      Object.assign(placing, { id: face.id, imageId: state.imageId });
      await placeFace(store, { id: face.id, imageId: state.imageId, embedding: own.embedding }, this.options);
    }
  }

  /**
   * {@link FaceClusterer.addFaces} for a micro-batch of images written in one transaction, with
   * the same result as placing them image after image (a single worker's order): `faces` are the
   * batch's clusterable faces (unnamed, passing the quality gate) as written, in arrival order.
   * Every face's own neighbourhood comes from one statement and the reached clusters' members from
   * another (the few other neighbourhoods the rule's looser evidence looks at, one query each);
   * while a face is placed, no neighbourhood holds the faces new in later images of the batch (not
   * yet arrived, as one at a time) nor the later faces of its photo, and the clusters they name
   * are followed through this batch's own creations, assignments and merges, which also keep the
   * loaded members up to date.
   */
  async placeBatch(embedVersion: string, faces: readonly BatchFace[]): Promise<void> {
    const todo = faces.filter((f) => f.clusterId === null);
    if (todo.length === 0) return;
    await this.#lock();
    const o = this.options;
    const imageRank = new Map<string, number>();
    for (const f of faces) if (!imageRank.has(f.imageId)) imageRank.set(f.imageId, imageRank.size);
    // While a face is placed, no neighbourhood holds the faces new in later images of the batch
    // (not arrived yet, one image at a time), nor the later faces of its own photo (addFaces).
    const newFaces = faces.filter((f) => f.inserted);
    const later = (imageId: string) => newFaces.filter((f) => imageRank.get(f.imageId)! > imageRank.get(imageId)!).map((f) => f.id);
    let placing: BatchFace = todo[0]!;
    const notYet = (h: { id: string; imageId: string }) => h.imageId === placing.imageId && BigInt(h.id) > BigInt(placing.id);
    // Each face's own neighbourhood, as far as the rule's context reaches, in one statement.
    const reach = contextReach(o);
    const hits = await this.#faces.clusterableNeighboursOfMany(
      todo.map((f) => ({ id: f.id, embedding: f.embedding, except: later(f.imageId) })),
      { embedVersion, limit: o.neighbourLimit, maxDistance: reach },
    );
    const known = new Map<string, ClusterFace>();
    for (const f of faces) known.set(f.id, f);
    for (const list of hits.values()) for (const h of list) known.set(h.id, h);
    // This batch's changes to clusters: faces moved, clusters merged away, members now.
    const moved = new Map<string, string>();
    const mergedInto = new Map<string, string>();
    const resolve = (id: string | null): string | null => {
      let c = id;
      while (c !== null && mergedInto.has(c)) c = mergedInto.get(c)!;
      return c;
    };
    const dbCluster = new Map<string, string | null>();
    for (const f of faces) dbCluster.set(f.id, f.clusterId);
    for (const list of hits.values()) for (const h of list) dbCluster.set(h.id, h.clusterId);
    const clusterOf = (id: string) => resolve(moved.get(id) ?? dbCluster.get(id) ?? null);
    const members: Map<string, ClusterFace[]> = await this.#faces.clusterMembersOfMany([...new Set([...hits.values()].flatMap((l) => l.map((h) => h.clusterId)).filter((c): c is string => c !== null))]);
    const learn = (clusterId: string, list: readonly ClusterFace[]) => {
      for (const m of list) {
        known.set(m.id, m);
        if (!dbCluster.has(m.id)) dbCluster.set(m.id, clusterId);
      }
    };
    for (const [id, list] of members) learn(id, list);
    const byId = (a: ClusterFace, b: ClusterFace) => (BigInt(a.id) < BigInt(b.id) ? -1 : BigInt(a.id) > BigInt(b.id) ? 1 : 0);
    const moveInMemory = (ids: readonly string[], to: string) => {
      for (const id of ids) {
        const from = clusterOf(id);
        const was = from === null ? undefined : members.get(from);
        if (was) members.set(from!, was.filter((m) => m.id !== id));
        moved.set(id, to);
        const list = members.get(to);
        const face = known.get(id);
        // A face not seen in this batch (cannot happen today): the members are read again when asked for.
        if (list && !face) members.delete(to);
        else if (list && face && !list.some((m) => m.id === id)) members.set(to, [...list, face].sort(byId));
      }
    };
    const store: ClusterStore = {
      neighbours: async (face, maxDistance, limit) => {
        let list = face.id === placing.id && limit === o.neighbourLimit && maxDistance <= reach ? hits.get(face.id) : undefined;
        if (!list) {
          // Another face's neighbourhood (the rule's looser evidence looks at a few): on its own, as the index holds it now.
          list = (await this.#faces.clusterableNeighboursOfMany([{ id: face.id, embedding: face.embedding, except: later(placing.imageId) }], { embedVersion, limit, maxDistance })).get(face.id) ?? [];
          for (const h of list) {
            known.set(h.id, h);
            if (!dbCluster.has(h.id)) dbCluster.set(h.id, h.clusterId);
          }
        }
        return list.filter((h) => h.distance <= maxDistance && !notYet(h)).map((h): ClusterNeighbour => ({ ...h, clusterId: clusterOf(h.id) }));
      },
      members: async (id) => {
        if (!members.has(id)) {
          const loaded = (await this.#faces.clusterMembersOfMany([id])).get(id) ?? [];
          learn(id, loaded);
          members.set(id, loaded);
        }
        return members.get(id)!;
      },
      create: async (ids) => {
        const id = await this.#clusters.create(embedVersion);
        await this.#clusters.assign(ids, id);
        members.set(id, []);
        moveInMemory(ids, id);
        return id;
      },
      assign: async (ids, id) => {
        await this.#clusters.assign(ids, id);
        moveInMemory(ids, id);
      },
      merge: async (ids) => {
        const survivor = await this.#clusters.merge(ids);
        for (const id of ids) {
          if (id !== survivor) mergedInto.set(id, survivor);
          members.delete(id);
        }
        return survivor;
      },
    };
    for (const face of todo) {
      // Placed meanwhile as an earlier face's unclustered neighbour.
      if (clusterOf(face.id) !== null) continue;
      placing = face;
      await placeFace(store, face, this.options);
    }
  }

  /**
   * Clusters every clusterable face of an embedding version again from scratch: the same rule,
   * replayed in arrival (id) order, neighbours through HNSW limited to earlier faces; a new
   * cluster keeps the id most of its faces had. Returns the counts.
   */
  async recluster(embedVersion: string): Promise<{ faces: number; clusters: number; noise: number }> {
    await this.#lock();
    const { rows } = await this.db.query<{ id: string; image_id: string; cluster_id: string | null; embedding: string }>(
      `SELECT id, image_id, cluster_id, embedding::text AS embedding FROM faces
       WHERE embed_version = $1 AND person_id IS NULL AND person_source IS NULL AND quality_ok ORDER BY id`,
      [embedVersion],
    );
    const faces = rows.map((r) => ({ id: r.id, imageId: r.image_id, embedding: r.embedding.slice(1, -1).split(',').map(Number) }));
    const memory = new MemoryClusterStore();
    const byId = new Map(faces.map((f) => [f.id, f]));
    // Neighbours from the index, as the incremental step saw them: the faces that had arrived when
    // the face being placed did (its own id and earlier), for it and for any face whose
    // neighbourhood the rule looks at; clusters from memory.
    let arrived = '0';
    const replay: ClusterStore = {
      neighbours: async (face, maxDistance, limit) => {
        const hits = await this.#faces.nearest(face.embedding, { embedVersion, limit, maxDistance, clusterable: true, excludeFaceId: face.id, beforeFaceId: String(BigInt(arrived) + 1n) });
        return hits.filter((h) => byId.has(h.id)).map((h): ClusterNeighbour => ({ id: h.id, imageId: h.imageId, embedding: byId.get(h.id)!.embedding, distance: h.distance, clusterId: memory.clusterOf.get(h.id) ?? null }));
      },
      members: (id) => memory.members(id),
      create: (ids) => memory.create(ids),
      assign: (ids, id) => memory.assign(ids, id),
      merge: (ids) => memory.merge(ids),
    };
    for (const f of faces) {
      memory.add(f);
      arrived = f.id;
      if (!memory.clusterOf.has(f.id)) await placeFace(replay, f, this.options);
    }
    const labelOf = new Map<string, number>();
    const labels = faces.map((f) => {
      const c = memory.clusterOf.get(f.id);
      if (c === undefined) return -1;
      if (!labelOf.has(c)) labelOf.set(c, labelOf.size);
      return labelOf.get(c)!;
    });
    const ids = stableClusterIds(labels, rows.map((r) => r.cluster_id));
    const byLabel = new Map<number, string[]>();
    labels.forEach((l, i) => {
      if (l >= 0) byLabel.set(l, [...(byLabel.get(l) ?? []), faces[i]!.id]);
    });
    await this.#clusters.assign(faces.map((f) => f.id), null);
    for (const [label, faceIds] of byLabel) {
      const id = ids.get(label) ?? (await this.#clusters.create(embedVersion));
      await this.#clusters.assign(faceIds, id);
    }
    await this.#clusters.deleteEmpty();
    return { faces: faces.length, clusters: byLabel.size, noise: labels.filter((l) => l < 0).length };
  }

  /**
   * The face index as a ClusterStore for one embedding version. The later faces of the photo being
   * placed (`placing`), written in the same step and not placed yet, are left out of every
   * neighbourhood: the rebuild, replaying in id order, does not see them at that point either.
   */
  #store(embedVersion: string, placing: { id: string; imageId: string }): ClusterStore {
    const notYet = (h: { id: string; imageId: string }) => h.imageId === placing.imageId && BigInt(h.id) > BigInt(placing.id);
    return {
      neighbours: async (face: ClusterFace, maxDistance: number, limit: number) =>
        (await this.#faces.nearest(face.embedding, { embedVersion, limit, maxDistance, clusterable: true, excludeFaceId: face.id, withEmbedding: true }))
          .filter((h) => !notYet(h))
          .map((h): ClusterNeighbour => ({ id: h.id, imageId: h.imageId, embedding: h.embedding!, distance: h.distance, clusterId: h.clusterId })),
      members: (id) => this.#faces.clusterMembers(id),
      create: async (ids) => {
        const id = await this.#clusters.create(embedVersion);
        await this.#clusters.assign(ids, id);
        return id;
      },
      assign: (ids, id) => this.#clusters.assign(ids, id),
      merge: (ids) => this.#clusters.merge(ids),
    };
  }

  async #lock(): Promise<void> {
    // One clustering step at a time across every process (usually already held: writeTransaction).
    await lockFaceWrites(this.db);
  }
}
