/**
 * DBSCAN over precomputed neighbourhoods. `neighbours[i]` lists the points within the maximum
 * distance of point i (not i itself); a point is a core point when it has at least
 * `minPoints` points within reach counting itself. Clusters grow from core points through core
 * points; border points join the first cluster that reaches them. Returns one label per point,
 * -1 for noise, clusters numbered from 0 in order of their lowest point.
 */
export function dbscan(neighbours: readonly (readonly number[])[], minPoints: number): number[] {
  const n = neighbours.length;
  const labels = new Array<number>(n).fill(-2); // -2: not visited
  const isCore = (i: number) => neighbours[i]!.length + 1 >= minPoints;
  let next = 0;
  for (let i = 0; i < n; i += 1) {
    if (labels[i] !== -2) continue;
    if (!isCore(i)) {
      labels[i] = -1;
      continue;
    }
    const cluster = next++;
    labels[i] = cluster;
    const queue = [...neighbours[i]!];
    while (queue.length > 0) {
      const j = queue.pop()!;
      if (labels[j] === -1) labels[j] = cluster; // noise reached from a core point: a border point
      if (labels[j] !== -2) continue;
      labels[j] = cluster;
      if (isCore(j)) queue.push(...neighbours[j]!);
    }
  }
  return labels;
}

/** Neighbourhoods within `maxDistance` by exact pairwise Euclidean distance (for evaluation and tests). */
export function exactNeighbourhoods(points: readonly ArrayLike<number>[], maxDistance: number): number[][] {
  const out = points.map(() => [] as number[]);
  for (let i = 0; i < points.length; i += 1) {
    for (let j = i + 1; j < points.length; j += 1) {
      if (euclidean(points[i]!, points[j]!) <= maxDistance) {
        out[i]!.push(j);
        out[j]!.push(i);
      }
    }
  }
  return out;
}

export function euclidean(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i += 1) {
    const d = a[i]! - b[i]!;
    s += d * d;
  }
  return Math.sqrt(s);
}
