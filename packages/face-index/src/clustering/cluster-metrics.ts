/** Clustering quality against true identities. */
export interface ClusterQuality {
  /** Of the pairs put in one cluster, the share that are the same person (1 = never merges two people). */
  pairwisePrecision: number;
  /** Of the same-person pairs, the share put in one cluster. */
  pairwiseRecall: number;
  bcubedPrecision: number;
  bcubedRecall: number;
  bcubedF1: number;
  clusters: number;
  /** Points in no cluster (label -1). */
  noise: number;
}

/**
 * Pairwise precision/recall and BCubed (Amigó et al. 2009) of `labels` against `truth`. Noise
 * (label -1) counts as one singleton cluster per point, so leaving a face out costs recall and
 * never precision. Precision with no predicted pairs is 1 (nothing was merged wrongly).
 */
export function clusterQuality(labels: readonly number[], truth: readonly string[]): ClusterQuality {
  if (labels.length !== truth.length) throw new RangeError(`${labels.length} labels but ${truth.length} identities`);
  const n = labels.length;
  const predicted = labels.map((l, i) => (l < 0 ? `noise:${i}` : `c:${l}`));
  const members = (keys: readonly string[]) => {
    const m = new Map<string, number[]>();
    keys.forEach((k, i) => m.set(k, [...(m.get(k) ?? []), i]));
    return m;
  };
  const byCluster = members(predicted);
  const byPerson = members(truth);
  let truePairs = 0;
  let predictedPairs = 0;
  let samePersonPairs = 0;
  for (let i = 0; i < n; i += 1) {
    for (let j = i + 1; j < n; j += 1) {
      const together = predicted[i] === predicted[j];
      const same = truth[i] === truth[j];
      if (together) predictedPairs += 1;
      if (same) samePersonPairs += 1;
      if (together && same) truePairs += 1;
    }
  }
  let bp = 0;
  let br = 0;
  for (let i = 0; i < n; i += 1) {
    const cluster = byCluster.get(predicted[i]!)!;
    const person = byPerson.get(truth[i]!)!;
    const overlap = cluster.filter((j) => truth[j] === truth[i]).length;
    bp += overlap / cluster.length;
    br += overlap / person.length;
  }
  bp = n > 0 ? bp / n : 1;
  br = n > 0 ? br / n : 1;
  return {
    pairwisePrecision: predictedPairs === 0 ? 1 : truePairs / predictedPairs,
    pairwiseRecall: samePersonPairs === 0 ? 1 : truePairs / samePersonPairs,
    bcubedPrecision: bp,
    bcubedRecall: br,
    bcubedF1: bp + br === 0 ? 0 : (2 * bp * br) / (bp + br),
    clusters: new Set(labels.filter((l) => l >= 0)).size,
    noise: labels.filter((l) => l < 0).length,
  };
}

/**
 * Keeps cluster ids stable across a full re-cluster: each new cluster takes the old id most of
 * its members had (largest overlaps first, each old id used once); the rest get null (a new id).
 * `previous[i]` is point i's old cluster id (or null), `labels[i]` its new label (-1 = none).
 */
export function stableClusterIds(labels: readonly number[], previous: readonly (string | null)[]): Map<number, string | null> {
  const overlaps = new Map<string, number>();
  for (let i = 0; i < labels.length; i += 1) {
    const old = previous[i];
    if (labels[i]! < 0 || old === null || old === undefined) continue;
    const key = `${labels[i]}\u0000${old}`;
    overlaps.set(key, (overlaps.get(key) ?? 0) + 1);
  }
  const ranked = [...overlaps.entries()]
    .map(([key, count]) => {
      const [label, old] = key.split('\u0000');
      return { label: Number(label), old: old!, count };
    })
    .sort((a, b) => b.count - a.count || a.label - b.label || a.old.localeCompare(b.old));
  const out = new Map<number, string | null>();
  for (const l of labels) if (l >= 0) out.set(l, null);
  const usedOld = new Set<string>();
  for (const { label, old } of ranked) {
    if (out.get(label) !== null || usedOld.has(old)) continue;
    out.set(label, old);
    usedOld.add(old);
  }
  return out;
}
