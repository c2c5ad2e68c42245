import { euclidean } from './dbscan.js';

/**
 * Clustering that needs the whole group's support, not a chain. DBSCAN and Chinese whispers join
 * two groups through any chain of close pairs, and in the dlib embedding such chains run through
 * dense regions (East Asian and Black faces, which it places closer together): one cluster of the
 * 13 k-photo LFW library held 127 people. Here:
 * - a face joins a cluster only when several of its members are within `maxDistance`
 *   (`minFaces − 1`, or all of a smaller cluster) **and** its mean distance to its nearest
 *   `linkageMembers` members (all of a smaller cluster) is at most `maxLinkage` (average linkage);
 * - two clusters merge only when their average linkage (mean distance over every cross pair) is at
 *   most `maxLinkage` — a bridge of look-alikes is close to a few faces of each group, never to
 *   the groups as a whole;
 * - a new cluster is founded by `minFaces` unclustered faces close to each other on average;
 * - two faces of one photo are two people (cannot-link): never in one cluster.
 * The same code runs in memory (evaluation, tests) and on the face index (FaceClusterer), with the
 * store deciding where neighbours and members come from. A full rebuild replays the faces in
 * arrival (id) order, so incremental placement and rebuild agree.
 */
export interface SupportedClusteringOptions {
  /** Largest distance of a neighbour that counts as support. @defaultValue 0.5 */
  maxDistance: number;
  /** Faces a new cluster needs; support a face needs from a cluster of at least this size, plus one. @defaultValue 2 */
  minFaces: number;
  /** Largest average distance between a face and a cluster, or between two merged clusters. @defaultValue 0.4 */
  maxLinkage: number;
  /** Neighbours looked up per face. @defaultValue 64 */
  neighbourLimit: number;
  /** A face's average linkage to a cluster is taken over its nearest this many members (all of a smaller cluster): a large cluster of one person spans poses a new face cannot all be near. @defaultValue 8 */
  linkageMembers?: number;
}

export const defaultSupportedClustering: SupportedClusteringOptions = { maxDistance: 0.5, minFaces: 2, maxLinkage: 0.4, neighbourLimit: 64, linkageMembers: 8 };

export interface ClusterFace {
  id: string;
  imageId: string;
  embedding: ArrayLike<number>;
}

export interface ClusterNeighbour extends ClusterFace {
  distance: number;
  clusterId: string | null;
}

/** Where clustering reads and writes: the face index, or memory. Only clusterable faces (unnamed, passing the quality gate) are seen. */
export interface ClusterStore {
  /** Clusterable faces within `maxDistance` of `face`, itself excluded, nearest first. */
  neighbours(face: ClusterFace, maxDistance: number, limit: number): Promise<ClusterNeighbour[]>;
  members(clusterId: string): Promise<ClusterFace[]>;
  create(faceIds: readonly string[]): Promise<string>;
  assign(faceIds: readonly string[], clusterId: string): Promise<void>;
  /** Merges clusters; returns the id kept (the largest; ties: the lowest). */
  merge(clusterIds: readonly string[]): Promise<string>;
}

const mean = (xs: readonly number[]) => (xs.length === 0 ? Infinity : xs.reduce((s, x) => s + x, 0) / xs.length);

/** Mean distance over every pair across the two groups. */
export function averageLinkage(a: readonly ClusterFace[], b: readonly ClusterFace[]): number {
  let sum = 0;
  for (const x of a) for (const y of b) sum += euclidean(x.embedding, y.embedding);
  return a.length === 0 || b.length === 0 ? Infinity : sum / (a.length * b.length);
}

function sharesImage(a: readonly ClusterFace[], b: readonly ClusterFace[]): boolean {
  const images = new Set(a.map((f) => f.imageId));
  return b.some((f) => images.has(f.imageId));
}

/** Whether `face` may join a cluster of `members`: cannot-link, support of several members, average linkage. */
export function fitsCluster(face: ClusterFace, members: readonly ClusterFace[], o: SupportedClusteringOptions): boolean {
  if (members.length === 0 || members.some((m) => m.imageId === face.imageId)) return false;
  const distances = members.map((m) => euclidean(face.embedding, m.embedding));
  const support = distances.filter((d) => d <= o.maxDistance).length;
  const nearest = o.linkageMembers ? [...distances].sort((a, b) => a - b).slice(0, o.linkageMembers) : distances;
  return support >= Math.min(o.minFaces - 1, members.length) && mean(nearest) <= o.maxLinkage;
}

/** Places one clusterable face that has no cluster yet (see {@link SupportedClusteringOptions}). Returns its cluster, or null. */
export async function placeFace(store: ClusterStore, face: ClusterFace, o: SupportedClusteringOptions = defaultSupportedClustering): Promise<string | null> {
  const hits = (await store.neighbours(face, o.maxDistance, o.neighbourLimit)).filter((h) => h.imageId !== face.imageId);
  const byCluster = new Map<string, ClusterNeighbour[]>();
  for (const h of hits) if (h.clusterId !== null) byCluster.set(h.clusterId, [...(byCluster.get(h.clusterId) ?? []), h]);
  const reached = [...byCluster.entries()].sort((a, b) => b[1].length - a[1].length || a[1][0]!.distance - b[1][0]!.distance || Number(a[0]) - Number(b[0])).map(([id]) => id);
  let cluster: string | null = null;
  for (const id of reached) {
    if (fitsCluster(face, await store.members(id), o)) {
      cluster = id;
      break;
    }
  }
  const free = hits.filter((h) => h.clusterId === null);
  if (cluster === null) {
    const group: ClusterFace[] = [face];
    for (const h of free) {
      if (group.some((g) => g.imageId === h.imageId)) continue;
      if (mean(group.map((g) => euclidean(g.embedding, h.embedding))) <= o.maxLinkage) group.push(h);
    }
    if (group.length < o.minFaces) return null;
    return store.create(group.map((g) => g.id));
  }
  await store.assign([face.id], cluster);
  // Other clusters the face reaches merge with its own only when the two groups agree as a whole.
  for (const id of reached) {
    if (id === cluster) continue;
    const [own, other] = [await store.members(cluster), await store.members(id)];
    if (own.length === 0 || other.length === 0 || sharesImage(own, other)) continue;
    if (averageLinkage(own, other) <= o.maxLinkage) cluster = await store.merge([cluster, id]);
  }
  // Unclustered neighbours follow when the grown cluster supports them.
  for (const h of free) {
    if (fitsCluster(h, await store.members(cluster), o)) await store.assign([h.id], cluster);
  }
  return cluster;
}

/** An in-memory {@link ClusterStore} over a fixed set of faces (exact neighbours): evaluation, tests, the rebuild's bookkeeping. */
export class MemoryClusterStore implements ClusterStore {
  readonly clusterOf = new Map<string, string>();
  readonly #faces: ClusterFace[] = [];
  readonly #members = new Map<string, Set<string>>();
  readonly #byId = new Map<string, ClusterFace>();
  #next = 1;

  /** Makes a face visible to neighbour queries (it arrives). */
  add(face: ClusterFace): void {
    this.#faces.push(face);
    this.#byId.set(face.id, face);
  }

  neighbours(face: ClusterFace, maxDistance: number, limit: number): Promise<ClusterNeighbour[]> {
    const out: ClusterNeighbour[] = [];
    for (const f of this.#faces) {
      if (f.id === face.id) continue;
      const distance = euclidean(face.embedding, f.embedding);
      if (distance <= maxDistance) out.push({ ...f, distance, clusterId: this.clusterOf.get(f.id) ?? null });
    }
    return Promise.resolve(out.sort((a, b) => a.distance - b.distance).slice(0, limit));
  }

  members(clusterId: string): Promise<ClusterFace[]> {
    return Promise.resolve([...(this.#members.get(clusterId) ?? [])].map((id) => this.#byId.get(id)!));
  }

  create(faceIds: readonly string[]): Promise<string> {
    const id = String(this.#next++);
    this.#members.set(id, new Set());
    return this.assign(faceIds, id).then(() => id);
  }

  assign(faceIds: readonly string[], clusterId: string): Promise<void> {
    for (const f of faceIds) {
      const old = this.clusterOf.get(f);
      if (old !== undefined) this.#members.get(old)?.delete(f);
      this.clusterOf.set(f, clusterId);
      this.#members.get(clusterId)!.add(f);
    }
    return Promise.resolve();
  }

  async merge(clusterIds: readonly string[]): Promise<string> {
    const keep = [...clusterIds].sort((a, b) => this.#members.get(b)!.size - this.#members.get(a)!.size || Number(a) - Number(b))[0]!;
    for (const id of clusterIds) {
      if (id === keep) continue;
      await this.assign([...this.#members.get(id)!], keep);
      this.#members.delete(id);
    }
    return keep;
  }
}

/** Clusters faces in memory, in the given (arrival) order. Returns each face's cluster label (-1: none), labels numbered from 0. */
export async function clusterInMemory(faces: readonly ClusterFace[], o: SupportedClusteringOptions = defaultSupportedClustering): Promise<number[]> {
  const store = new MemoryClusterStore();
  for (const f of faces) {
    store.add(f);
    if (!store.clusterOf.has(f.id)) await placeFace(store, f, o);
  }
  const labels = new Map<string, number>();
  return faces.map((f) => {
    const c = store.clusterOf.get(f.id);
    if (c === undefined) return -1;
    if (!labels.has(c)) labels.set(c, labels.size);
    return labels.get(c)!;
  });
}
