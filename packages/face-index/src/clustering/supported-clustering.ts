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
 * Looser evidence counts only where the neighbourhood is clear (`contextMargin`), since the
 * strict linkage splits a person with many photos in varied poses into fragments, while in a
 * crowded region of look-alikes (where chains formed) the looser distances are not evidence:
 * - a face joins a cluster whose members are all within `clearLinkage` of it on average when no
 *   face of another cluster comes within `contextMargin` of its nearest member;
 * - two unclustered faces found a cluster when they are each other's nearest, within
 *   `fragmentLinkage`, and every other face is `contextMargin` farther from either;
 * - two clusters merge as fragments of one person when their average linkage is within
 *   `fragmentLinkage` and their boundary faces find the other cluster first, `contextMargin`
 *   nearer than any third face (mutual nearest clusters: shared-neighbour evidence).
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
  /**
   * Largest mean distance from a face to all of a cluster's members for it to join on clear
   * evidence: no face of another cluster within `contextMargin` of its nearest member. Unset: only
   * the strict linkage. @defaultValue 0.48
   */
  clearLinkage?: number;
  /**
   * Largest distance of two unclustered faces that found a cluster as each other's clear nearest,
   * and largest average linkage of two clusters that merge as fragments of one person. Unset: off.
   * @defaultValue 0.52
   */
  fragmentLinkage?: number;
  /** How much farther than the group a face joins any other face must be for the looser evidence to count. @defaultValue 0.08 */
  contextMargin?: number;
  /** Faces on each side (those nearest the other cluster) whose neighbours decide whether two clusters are fragments of one person. @defaultValue 4 */
  boundaryFaces?: number;
}

export const defaultSupportedClustering: Required<SupportedClusteringOptions> = {
  maxDistance: 0.5,
  minFaces: 2,
  maxLinkage: 0.4,
  neighbourLimit: 64,
  linkageMembers: 8,
  clearLinkage: 0.48,
  fragmentLinkage: 0.52,
  contextMargin: 0.08,
  boundaryFaces: 4,
};

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

/** How far neighbours are looked up: support's reach, and what lies within the margin beyond the looser evidence. */
export const contextReach = (o: SupportedClusteringOptions) => Math.max(o.maxDistance, Math.max(o.maxDistance, o.fragmentLinkage ?? 0) + (o.contextMargin ?? 0));

/** A face's neighbours as far as the context reaches, other faces of its photo left out. */
async function contextOf(store: ClusterStore, face: ClusterFace, o: SupportedClusteringOptions): Promise<ClusterNeighbour[]> {
  return (await store.neighbours(face, contextReach(o), o.neighbourLimit)).filter((h) => h.imageId !== face.imageId);
}

/** Distance to the nearest of `hits` (nearest first) outside `group` (Infinity when none is within reach). */
function nearestOutside(hits: readonly ClusterNeighbour[], group: ReadonlySet<string>): number {
  return hits.find((h) => !group.has(h.id))?.distance ?? Infinity;
}

/**
 * Whether `face` may join a cluster of `members` on clear evidence: cannot-link, support, its mean
 * distance to all members within `clearLinkage`, and no face of another cluster among `context`
 * (its neighbours, nearest first) within `contextMargin` of its nearest member. A face near a
 * crowd of look-alike clusters must meet the strict linkage ({@link fitsCluster}).
 */
export function fitsClearly(face: ClusterFace, members: readonly ClusterFace[], context: readonly ClusterNeighbour[], o: SupportedClusteringOptions): boolean {
  if (o.clearLinkage === undefined || members.length === 0 || members.some((m) => m.imageId === face.imageId)) return false;
  const distances = members.map((m) => euclidean(face.embedding, m.embedding)).sort((a, b) => a - b);
  const support = distances.filter((d) => d <= o.maxDistance).length;
  if (support < Math.min(o.minFaces - 1, members.length) || mean(distances) > o.clearLinkage) return false;
  // Unclustered faces nearby are not rivals: they are often the same person's other photos.
  const rivals = context.filter((h) => h.clusterId !== null);
  return nearestOutside(rivals, new Set(members.map((m) => m.id))) - distances[0]! >= (o.contextMargin ?? 0);
}

/**
 * Whether `face` and its nearest face (`context[0]`, unclustered) are each other's nearest, within
 * `fragmentLinkage`, with every other face at least `contextMargin` farther from either: a pair
 * founded on looser evidence only where no look-alike crowds them.
 */
async function mutualNearest(store: ClusterStore, face: ClusterFace, context: readonly ClusterNeighbour[], o: SupportedClusteringOptions): Promise<boolean> {
  const first = context[0];
  if (o.fragmentLinkage === undefined || !first || first.clusterId !== null || first.distance > o.fragmentLinkage) return false;
  const margin = o.contextMargin ?? 0;
  if (nearestOutside(context, new Set([first.id])) - first.distance < margin) return false;
  const theirs = (await contextOf(store, first, o)).filter((h) => h.imageId !== face.imageId || h.id === face.id);
  if (theirs[0]?.id !== face.id) return false;
  return nearestOutside(theirs, new Set([face.id])) - first.distance >= margin;
}

/**
 * Whether two clusters are fragments of one person: no shared photo, average linkage within
 * `fragmentLinkage`, and on each side at least half of the faces nearest the other cluster (up
 * to `boundaryFaces`) find the other cluster first outside their own, with every third face at
 * least `contextMargin` farther — mutual nearest clusters, the shared-neighbour evidence of
 * rank-order clustering. Two groups of look-alikes in a crowded region have third faces as near.
 */
export async function fragmentsAgree(store: ClusterStore, a: readonly ClusterFace[], b: readonly ClusterFace[], o: SupportedClusteringOptions): Promise<boolean> {
  if (o.fragmentLinkage === undefined || a.length === 0 || b.length === 0 || sharesImage(a, b) || averageLinkage(a, b) > o.fragmentLinkage) return false;
  const both = new Set([...a, ...b].map((f) => f.id));
  const side = async (own: readonly ClusterFace[], other: readonly ClusterFace[]) => {
    const otherIds = new Set(other.map((f) => f.id));
    const ownIds = new Set(own.map((f) => f.id));
    const boundary = own
      .map((f) => ({ f, d: Math.min(...other.map((g) => euclidean(f.embedding, g.embedding))) }))
      .sort((x, y) => x.d - y.d || byId(x.f.id, y.f.id))
      .slice(0, Math.max(1, o.boundaryFaces ?? 4));
    let agreeing = 0;
    for (const { f, d } of boundary) {
      const theirs = (await contextOf(store, f, o)).filter((h) => !ownIds.has(h.id));
      if (theirs[0] && otherIds.has(theirs[0].id) && nearestOutside(theirs, both) - d >= (o.contextMargin ?? 0)) agreeing += 1;
    }
    return agreeing * 2 >= boundary.length;
  };
  return (await side(a, b)) && (await side(b, a));
}

/** The cheap part of {@link fitsClearly} (no neighbour lookup): whether the face's context is worth fetching. */
function mayFitClearly(face: ClusterFace, members: readonly ClusterFace[], o: SupportedClusteringOptions): boolean {
  if (o.clearLinkage === undefined || members.length === 0 || members.some((m) => m.imageId === face.imageId)) return false;
  return mean(members.map((m) => euclidean(face.embedding, m.embedding))) <= o.clearLinkage;
}

/** Numeric ids in order (database ids are bigint strings). */
const byId = (a: string, b: string) => a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);

/** Places one clusterable face that has no cluster yet (see {@link SupportedClusteringOptions}). Returns its cluster, or null. */
export async function placeFace(store: ClusterStore, face: ClusterFace, o: SupportedClusteringOptions = defaultSupportedClustering): Promise<string | null> {
  // Looked up a little farther than support reaches: the context looser evidence is checked against.
  const context = await contextOf(store, face, o);
  const hits = context.filter((h) => h.distance <= o.maxDistance);
  const byCluster = new Map<string, ClusterNeighbour[]>();
  for (const h of hits) if (h.clusterId !== null) byCluster.set(h.clusterId, [...(byCluster.get(h.clusterId) ?? []), h]);
  const reached = [...byCluster.entries()].sort((a, b) => b[1].length - a[1].length || a[1][0]!.distance - b[1][0]!.distance || Number(a[0]) - Number(b[0])).map(([id]) => id);
  let cluster: string | null = null;
  for (const id of reached) {
    const members = await store.members(id);
    if (fitsCluster(face, members, o) || fitsClearly(face, members, context, o)) {
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
    if (group.length < o.minFaces && o.minFaces === 2 && (await mutualNearest(store, face, context, o))) group.push(context[0]!);
    if (group.length < o.minFaces) return null;
    cluster = await store.create(group.map((g) => g.id));
  } else {
    await store.assign([face.id], cluster);
  }
  // Other clusters the face reaches merge with its own only when the two groups agree as a whole,
  // or are clearly fragments of one person.
  for (const id of reached) {
    if (id === cluster) continue;
    const [own, other] = [await store.members(cluster), await store.members(id)];
    if (own.length === 0 || other.length === 0 || sharesImage(own, other)) continue;
    if (averageLinkage(own, other) <= o.maxLinkage || (await fragmentsAgree(store, own, other, o))) cluster = await store.merge([cluster, id]);
  }
  // Unclustered neighbours follow when the grown cluster supports them (or clearly takes them).
  for (const h of free) {
    const members = await store.members(cluster);
    if (fitsCluster(h, members, o) || (mayFitClearly(h, members, o) && fitsClearly(h, members, await contextOf(store, h, o), o))) await store.assign([h.id], cluster);
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
