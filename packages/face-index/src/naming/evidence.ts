/**
 * The naming rule's evidence for a person: the mean of a face's `k` smallest distances to the
 * person's examples (`ascending`, nearest first); Infinity when fewer than `k` are known.
 */
export function meanOfNearest(ascending: readonly number[], k: number): number {
  if (ascending.length < k || k < 1) return Infinity;
  let sum = 0;
  for (let i = 0; i < k; i += 1) sum += ascending[i]!;
  return sum / k;
}
