/**
 * 2-D affine and similarity transforms. A transform is the 2×3 matrix `[a, b, c, d, e, f]`:
 * `x' = a·x + b·y + c`, `y' = d·x + e·y + f`. A similarity (rotation θ, uniform scale s,
 * translation) has `a = e = s·cos θ` and `d = -b = s·sin θ`. Angles are in radians, counter-clockwise
 * in a y-up frame, which in image coordinates (y down) looks clockwise.
 */
import type { Point } from './box.js';

/** `[a, b, c, d, e, f]`: `x' = a·x + b·y + c`, `y' = d·x + e·y + f`. */
export type Affine = readonly [a: number, b: number, c: number, d: number, e: number, f: number];

/** The identity transform. */
export const IDENTITY: Affine = [1, 0, 0, 0, 1, 0];

/** Builds a similarity from its parameters: scale, rotation angle (radians), translation. */
export function similarityFromParams(scale: number, angle: number, tx: number, ty: number): Affine {
  const a = scale * Math.cos(angle);
  const d = scale * Math.sin(angle);
  return [a, -d, tx, d, a, ty];
}

/** Decomposes a similarity into scale, angle (radians, in (-π, π]) and translation. */
export function similarityParams(m: Affine): { scale: number; angle: number; tx: number; ty: number } {
  return { scale: Math.hypot(m[0], m[3]), angle: Math.atan2(m[3], m[0]), tx: m[2], ty: m[5] };
}

/** Applies a transform to one point. */
export function applyAffine(m: Affine, p: Point): Point {
  return [m[0] * p[0] + m[1] * p[1] + m[2], m[3] * p[0] + m[4] * p[1] + m[5]];
}

/** Applies a transform to each point. */
export function applyAffineToPoints(m: Affine, points: readonly Point[]): Point[] {
  return points.map((p) => applyAffine(m, p));
}

/** `outer ∘ inner`: the transform that applies `inner` first, then `outer`. */
export function composeAffine(outer: Affine, inner: Affine): Affine {
  const [a, b, c, d, e, f] = outer;
  const [A, B, C, D, E, F] = inner;
  return [a * A + b * D, a * B + b * E, a * C + b * F + c, d * A + e * D, d * B + e * E, d * C + e * F + f];
}

/** The inverse transform. @throws RangeError when the matrix is singular. */
export function invertAffine(m: Affine): Affine {
  const [a, b, c, d, e, f] = m;
  const det = a * e - b * d;
  if (det === 0 || !Number.isFinite(det)) throw new RangeError('transform is not invertible');
  const ia = e / det;
  const ib = -b / det;
  const id = -d / det;
  const ie = a / det;
  return [ia, ib, -(ia * c + ib * f), id, ie, -(id * c + ie * f)];
}

/**
 * The least-squares similarity (rotation, uniform scale ≥ 0, translation; no reflection) mapping
 * `src[i]` onto `dst[i]`: minimises Σ‖s·R·src[i] + t − dst[i]‖². This is Umeyama's solution
 * (as dlib's `find_similarity_transform`), computed in closed form for 2-D: with centred points
 * p, q, `s·cos θ = Σ p·q / Σ‖p‖²` and `s·sin θ = Σ p×q / Σ‖p‖²`.
 *
 * @throws RangeError for fewer than 2 pairs, mismatched lengths, or all source points equal.
 */
export function estimateSimilarity(src: readonly Point[], dst: readonly Point[]): Affine {
  const n = src.length;
  if (n !== dst.length) throw new RangeError(`${n} source points but ${dst.length} destination points`);
  if (n < 2) throw new RangeError('a similarity needs at least 2 point pairs');
  let msx = 0, msy = 0, mdx = 0, mdy = 0;
  for (let i = 0; i < n; i++) {
    msx += src[i]![0]; msy += src[i]![1];
    mdx += dst[i]![0]; mdy += dst[i]![1];
  }
  msx /= n; msy /= n; mdx /= n; mdy /= n;
  let dot = 0, cross = 0, norm = 0;
  for (let i = 0; i < n; i++) {
    const px = src[i]![0] - msx, py = src[i]![1] - msy;
    const qx = dst[i]![0] - mdx, qy = dst[i]![1] - mdy;
    dot += px * qx + py * qy;
    cross += px * qy - py * qx;
    norm += px * px + py * py;
  }
  if (norm === 0) throw new RangeError('source points are all equal');
  const a = dot / norm;
  const d = cross / norm;
  return [a, -d, mdx - (a * msx - d * msy), d, a, mdy - (d * msx + a * msy)];
}
