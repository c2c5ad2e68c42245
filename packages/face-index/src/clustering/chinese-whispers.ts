import { euclidean } from './dbscan.js';

/**
 * dlib's Chinese whispers clustering (as in its face_clustering.py): a graph joins faces closer
 * than `threshold`; each node repeatedly takes the label most common among its neighbours, in a
 * random order, for `iterations` rounds. Deterministic for a given `seed`. Labels are numbered
 * from 0 in order of first appearance; every point gets one (a lone face is its own cluster).
 */
export function chineseWhispers(points: readonly ArrayLike<number>[], threshold: number, options: { iterations?: number; seed?: number } = {}): number[] {
  const n = points.length;
  const edges = points.map(() => [] as number[]);
  for (let i = 0; i < n; i += 1) {
    for (let j = i + 1; j < n; j += 1) {
      if (euclidean(points[i]!, points[j]!) < threshold) {
        edges[i]!.push(j);
        edges[j]!.push(i);
      }
    }
  }
  const labels = Array.from({ length: n }, (_, i) => i);
  let state = (options.seed ?? 1) >>> 0 || 1;
  const random = () => {
    // xorshift32: a small deterministic generator.
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 4294967296;
  };
  const iterations = options.iterations ?? 100;
  for (let round = 0; round < iterations * n; round += 1) {
    const i = Math.floor(random() * n);
    const votes = new Map<number, number>();
    for (const j of edges[i]!) votes.set(labels[j]!, (votes.get(labels[j]!) ?? 0) + 1);
    let best = labels[i]!;
    let bestVotes = 0;
    for (const [label, count] of votes) {
      if (count > bestVotes || (count === bestVotes && label < best)) {
        best = label;
        bestVotes = count;
      }
    }
    labels[i] = best;
  }
  const renumber = new Map<number, number>();
  return labels.map((l) => {
    if (!renumber.has(l)) renumber.set(l, renumber.size);
    return renumber.get(l)!;
  });
}
