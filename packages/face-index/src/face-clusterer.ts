import { dbscan } from './clustering/dbscan.js';
import { stableClusterIds } from './clustering/cluster-metrics.js';
import { ClusterRepository } from './cluster-repository.js';
import { FaceRepository, type FaceHit } from './face-repository.js';
import { lockFaceWrites } from './face-write-lock.js';
import type { Queryable } from './queryable.js';

export interface ClusteringOptions {
  /** Largest distance between two faces of one neighbourhood. @defaultValue 0.43 */
  maxDistance: number;
  /** Faces (itself included) a face needs within `maxDistance` to found or grow a cluster. @defaultValue 3 */
  minFaces: number;
  /** Neighbours looked up per face. @defaultValue 64 */
  neighbourLimit?: number;
}

export const defaultClusteringOptions: Required<ClusteringOptions> = { maxDistance: 0.43, minFaces: 3, neighbourLimit: 64 };

/**
 * Groups faces nobody has named, DBSCAN-style (as Immich does): a face with at least `minFaces`
 * faces (itself included) within `maxDistance` is a core face; core faces within `maxDistance`
 * of each other are in one cluster, and take their unclustered neighbours along; other faces
 * join the cluster of their nearest core neighbour, or stay in none. Incremental:
 * {@link FaceClusterer.addFaces} runs per classified image (inside its transaction), using the
 * HNSW index for neighbours. A face that becomes core next to core faces of several clusters
 * merges them, as DBSCAN would (ClusterRepository.merge: the largest keeps its id), so the
 * incremental result and the full re-cluster agree. Cluster ids never change for a face that
 * stays in its group unless its cluster is merged into a larger one. Faces with a person (named
 * automatically, by hand or enrolled) are never clustered.
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

  /** Places newly written unnamed faces. `inserted` says which rows are new (their neighbours' counts grow). */
  async addFaces(embedVersion: string, faces: readonly { id: string; inserted: boolean }[]): Promise<void> {
    if (faces.length === 0) return;
    await this.#lock();
    for (const face of faces) {
      const own = await this.#faces.embedding(face.id);
      const state = await this.#faces.state(face.id);
      if (!own || !state || state.personId !== null) continue;
      const hits = await this.#neighbours(own.embedding, embedVersion, face.id);
      const count = hits.length + 1;
      await this.db.query('UPDATE faces SET neighbour_count = $2 WHERE id = $1', [face.id, count]);
      const reachedCore: string[] = [];
      if (face.inserted && hits.length > 0) {
        const { rows } = await this.db.query<{ id: string; neighbour_count: number }>(
          'UPDATE faces SET neighbour_count = neighbour_count + 1 WHERE id = ANY($1::bigint[]) RETURNING id, neighbour_count',
          [hits.map((h) => h.id)],
        );
        for (const r of rows) if (r.neighbour_count === this.options.minFaces) reachedCore.push(r.id);
      }
      const counts = await this.#counts(hits.map((h) => h.id));
      if (count >= this.options.minFaces) await this.#growFrom(face.id, state.clusterId, hits, counts, embedVersion);
      else if (state.clusterId === null) {
        const core = hits.find((h) => h.clusterId !== null && (counts.get(h.id) ?? 0) >= this.options.minFaces);
        if (core) await this.#clusters.assign([face.id], core.clusterId);
      }
      for (const id of reachedCore) {
        const other = await this.#faces.embedding(id);
        const otherState = await this.#faces.state(id);
        if (!other || !otherState) continue;
        const otherHits = await this.#neighbours(other.embedding, embedVersion, id);
        await this.#growFrom(id, otherState.clusterId, otherHits, await this.#counts(otherHits.map((h) => h.id)), embedVersion);
      }
    }
  }

  /**
   * Clusters every unnamed face of an embedding version again from scratch (DBSCAN over HNSW
   * neighbourhoods); a new cluster keeps the id most of its faces had. Returns the cluster count.
   */
  async recluster(embedVersion: string): Promise<{ faces: number; clusters: number; noise: number }> {
    await this.#lock();
    const candidates = await this.#clusters.candidates(embedVersion);
    const position = new Map(candidates.map((c, i) => [c.id, i]));
    const neighbourhoods: number[][] = [];
    for (const c of candidates) {
      const own = await this.#faces.embedding(c.id);
      const hits = own ? await this.#neighbours(own.embedding, embedVersion, c.id) : [];
      neighbourhoods.push(hits.map((h) => position.get(h.id)).filter((p): p is number => p !== undefined));
    }
    const labels = dbscan(neighbourhoods, this.options.minFaces);
    const ids = stableClusterIds(labels, candidates.map((c) => c.clusterId));
    const byLabel = new Map<number, string[]>();
    labels.forEach((l, i) => {
      if (l >= 0) byLabel.set(l, [...(byLabel.get(l) ?? []), candidates[i]!.id]);
    });
    await this.#clusters.assign(candidates.map((c) => c.id), null);
    for (const [label, faceIds] of byLabel) {
      const id = ids.get(label) ?? (await this.#clusters.create(embedVersion));
      await this.#clusters.assign(faceIds, id);
    }
    for (let i = 0; i < candidates.length; i += 1) {
      await this.db.query('UPDATE faces SET neighbour_count = $2 WHERE id = $1', [candidates[i]!.id, neighbourhoods[i]!.length + 1]);
    }
    await this.#clusters.deleteEmpty();
    return { faces: candidates.length, clusters: byLabel.size, noise: labels.filter((l) => l < 0).length };
  }

  /**
   * A core face: it and every cluster it reaches through a core neighbour become one (a merge
   * when there are several), or a new cluster when it reaches none; unclustered neighbours follow.
   */
  async #growFrom(faceId: string, current: string | null, hits: readonly FaceHit[], counts: Map<string, number>, embedVersion: string): Promise<void> {
    const reached = new Set<string>(current === null ? [] : [current]);
    for (const h of hits) if (h.clusterId !== null && (counts.get(h.id) ?? 0) >= this.options.minFaces) reached.add(h.clusterId);
    const cluster = reached.size === 0 ? await this.#clusters.create(embedVersion) : reached.size === 1 ? [...reached][0]! : await this.#clusters.merge([...reached]);
    const joining = [...(current === null ? [faceId] : []), ...hits.filter((h) => h.clusterId === null).map((h) => h.id)];
    await this.#clusters.assign(joining, cluster);
  }

  #neighbours(embedding: ArrayLike<number>, embedVersion: string, excludeFaceId: string): Promise<FaceHit[]> {
    return this.#faces.nearest(embedding, { embedVersion, limit: this.options.neighbourLimit, maxDistance: this.options.maxDistance, unnamedOnly: true, excludeFaceId });
  }

  async #counts(ids: readonly string[]): Promise<Map<string, number>> {
    if (ids.length === 0) return new Map();
    const { rows } = await this.db.query<{ id: string; neighbour_count: number }>('SELECT id, neighbour_count FROM faces WHERE id = ANY($1::bigint[])', [ids]);
    return new Map(rows.map((r) => [r.id, r.neighbour_count]));
  }

  async #lock(): Promise<void> {
    // One clustering step at a time across every process (usually already held: writeTransaction).
    await lockFaceWrites(this.db);
  }
}
