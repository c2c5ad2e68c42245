/** Vector maths over embeddings (any `ArrayLike<number>`, typically 128-d Float32Array). */

/** An embedding vector. */
export type Embedding = ArrayLike<number>;

function checkSameLength(a: Embedding, b: Embedding): void {
  if (a.length !== b.length) throw new RangeError(`embeddings differ in length: ${a.length} vs ${b.length}`);
}

/** Squared Euclidean distance. */
export function squaredEuclideanDistance(a: Embedding, b: Embedding): number {
  checkSameLength(a, b);
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i]! - b[i]!;
    sum += d * d;
  }
  return sum;
}

/** Euclidean (L2) distance: face_recognition / dlib compare embeddings with this (same person below ~0.6). */
export function euclideanDistance(a: Embedding, b: Embedding): number {
  return Math.sqrt(squaredEuclideanDistance(a, b));
}

/** L2 norm. */
export function l2Norm(v: Embedding): number {
  let sum = 0;
  for (let i = 0; i < v.length; i++) sum += v[i]! * v[i]!;
  return Math.sqrt(sum);
}

/** Cosine similarity in [-1, 1]; 0 when either vector is all zeros. */
export function cosineSimilarity(a: Embedding, b: Embedding): number {
  checkSameLength(a, b);
  let dot = 0;
  for (let i = 0; i < a.length; i++) dot += a[i]! * b[i]!;
  const norms = l2Norm(a) * l2Norm(b);
  return norms === 0 ? 0 : dot / norms;
}

/** A unit-length copy of `v` (a zero vector is returned as zeros). */
export function l2Normalize(v: Embedding): Float32Array {
  const norm = l2Norm(v);
  const out = new Float32Array(v.length);
  if (norm === 0) return out;
  for (let i = 0; i < v.length; i++) out[i] = v[i]! / norm;
  return out;
}

/** Element-wise mean of one or more embeddings of equal length. */
export function meanEmbedding(vectors: readonly Embedding[]): Float32Array {
  if (vectors.length === 0) throw new RangeError('meanEmbedding needs at least one vector');
  const dim = vectors[0]!.length;
  const sum = new Float64Array(dim);
  for (const v of vectors) {
    if (v.length !== dim) throw new RangeError(`embeddings differ in length: ${dim} vs ${v.length}`);
    for (let i = 0; i < dim; i++) sum[i]! += v[i]!;
  }
  return Float32Array.from(sum, (s) => s / vectors.length);
}
