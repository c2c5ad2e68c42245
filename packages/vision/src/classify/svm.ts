/**
 * One-vs-rest linear SVM over embeddings, trained by dual coordinate descent for the
 * L2-regularised hinge loss (Hsieh et al. 2008, LIBLINEAR's `-s 3` solver; without shrinking). The
 * bias is learnt as the weight of a constant feature (value 1, regularised like LIBLINEAR's
 * `-B 1`). Training is deterministic: samples are visited in an order drawn from a seeded PRNG.
 */
import type { Embedding } from './distance.js';
import type { GalleryEntry } from './nearest.js';

/** Options for {@link trainLinearSvm}. */
export interface SvmTrainOptions {
  /** Cost of margin violations (larger = harder margin). @defaultValue 1 */
  readonly c?: number;
  /**
   * `'balanced'` weighs each class's violations by `n / (2 · n_class)` in every one-vs-rest
   * problem (a person with 3 photos against 300 others is not drowned); `'none'` weighs all equally.
   * @defaultValue 'balanced'
   */
  readonly classWeight?: 'balanced' | 'none';
  /** Stop when the projected-gradient spread falls below this. @defaultValue 1e-4 */
  readonly epsilon?: number;
  /** Passes over the data per class at most. @defaultValue 1000 */
  readonly maxIterations?: number;
  /** Seed for the visiting order. @defaultValue 1 */
  readonly seed?: number;
}

/** A trained model; plain JSON (store it with `JSON.stringify`, load with {@link parseLinearSvmModel}). */
export interface LinearSvmModel {
  readonly kind: 'linear-svm-ovr';
  readonly version: 1;
  /** Class names, in the order of `weights` and `biases`. */
  readonly classes: readonly string[];
  readonly dim: number;
  /** One weight vector per class. */
  readonly weights: readonly (readonly number[])[];
  readonly biases: readonly number[];
  /** The training settings, for the record. */
  readonly c: number;
  readonly classWeight: 'balanced' | 'none';
}

/** Options for {@link predictLinearSvm}. */
export interface SvmPredictOptions {
  /** A best decision value below this may mean "unknown". @defaultValue 0 */
  readonly threshold?: number;
  /**
   * Distance from the probe to its nearest gallery embedding, when known. With it, "unknown"
   * needs both a low score and `nearestDistance > tolerance`; without it, a low score alone.
   */
  readonly nearestDistance?: number;
  /** @defaultValue 0.6 */
  readonly tolerance?: number;
}

/** A prediction: the best class (or null for unknown), its decision value, and every class's value. */
export interface SvmPrediction {
  readonly name: string | null;
  /** The best decision value `w·x + b` (signed distance to the hyperplane times ‖w‖). */
  readonly score: number;
  /** The best class, even when the prediction is unknown. */
  readonly bestClass: string;
  readonly scores: readonly number[];
}

/** Small, fast, seeded PRNG (mulberry32), returning floats in [0, 1). */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffleInPlace(order: Int32Array, random: () => number): void {
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = order[i]!;
    order[i] = order[j]!;
    order[j] = t;
  }
}

/**
 * Solves one binary problem: labels ±1, per-sample upper bounds. Returns `[w..., b]`.
 * Minimises ½‖w‖² + Σ Cᵢ max(0, 1 − yᵢ (w·xᵢ + b)) in its dual.
 */
function solveBinary(xs: readonly Embedding[], ys: Int8Array, upper: Float64Array, epsilon: number, maxIterations: number, random: () => number): Float64Array {
  const n = xs.length;
  const dim = xs[0]!.length;
  const w = new Float64Array(dim + 1); // last entry: bias (constant feature 1)
  const alpha = new Float64Array(n);
  const qii = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 1; // the constant feature
    const x = xs[i]!;
    for (let k = 0; k < dim; k++) s += x[k]! * x[k]!;
    qii[i] = s;
  }
  const order = Int32Array.from({ length: n }, (_, i) => i);
  for (let iter = 0; iter < maxIterations; iter++) {
    shuffleInPlace(order, random);
    let pgMax = Number.NEGATIVE_INFINITY;
    let pgMin = Number.POSITIVE_INFINITY;
    for (const i of order) {
      const x = xs[i]!;
      const y = ys[i]!;
      let wx = w[dim]!;
      for (let k = 0; k < dim; k++) wx += w[k]! * x[k]!;
      const g = y * wx - 1;
      const a = alpha[i]!;
      const u = upper[i]!;
      const pg = a === 0 ? Math.min(g, 0) : a === u ? Math.max(g, 0) : g;
      pgMax = Math.max(pgMax, pg);
      pgMin = Math.min(pgMin, pg);
      if (Math.abs(pg) > 1e-12) {
        const next = Math.min(Math.max(a - g / qii[i]!, 0), u);
        const step = (next - a) * y;
        alpha[i] = next;
        for (let k = 0; k < dim; k++) w[k]! += step * x[k]!;
        w[dim]! += step;
      }
    }
    if (pgMax - pgMin < epsilon) break;
  }
  return w;
}

/**
 * Trains one linear SVM per person (that person against everyone else) on the gallery.
 * @throws RangeError with fewer than two people or mismatched embedding lengths.
 */
export function trainLinearSvm(samples: readonly GalleryEntry[], opts: SvmTrainOptions = {}): LinearSvmModel {
  const c = opts.c ?? 1;
  const classWeight = opts.classWeight ?? 'balanced';
  const classes = [...new Set(samples.map((s) => s.name))].sort();
  if (classes.length < 2) throw new RangeError(`a one-vs-rest SVM needs at least two people, got ${classes.length}; use nearest-neighbour matching`);
  const dim = samples[0]!.embedding.length;
  for (const s of samples) if (s.embedding.length !== dim) throw new RangeError(`embeddings differ in length: ${dim} vs ${s.embedding.length}`);
  const xs = samples.map((s) => s.embedding);
  const n = samples.length;
  const random = mulberry32(opts.seed ?? 1);
  const weights: number[][] = [];
  const biases: number[] = [];
  for (const cls of classes) {
    const ys = Int8Array.from(samples, (s) => (s.name === cls ? 1 : -1));
    const nPos = ys.reduce((k, y) => k + (y > 0 ? 1 : 0), 0);
    const wPos = classWeight === 'balanced' ? n / (2 * nPos) : 1;
    const wNeg = classWeight === 'balanced' ? n / (2 * (n - nPos)) : 1;
    const upper = Float64Array.from(ys, (y) => c * (y > 0 ? wPos : wNeg));
    const w = solveBinary(xs, ys, upper, opts.epsilon ?? 1e-4, opts.maxIterations ?? 1000, random);
    weights.push(Array.from(w.subarray(0, dim)));
    biases.push(w[dim]!);
  }
  return { kind: 'linear-svm-ovr', version: 1, classes, dim, weights, biases, c, classWeight };
}

/** Decision values `w_k·x + b_k` for every class. */
export function svmDecisionValues(model: LinearSvmModel, x: Embedding): number[] {
  if (x.length !== model.dim) throw new RangeError(`embedding has ${x.length} values, model expects ${model.dim}`);
  return model.weights.map((w, k) => {
    let s = model.biases[k]!;
    for (let i = 0; i < w.length; i++) s += w[i]! * x[i]!;
    return s;
  });
}

/**
 * Predicts the person for an embedding: the class with the highest decision value, or null
 * ("unknown") when that value is below `threshold` and, if `nearestDistance` is given, the probe
 * is also farther than `tolerance` from every gallery embedding.
 */
export function predictLinearSvm(model: LinearSvmModel, x: Embedding, opts: SvmPredictOptions = {}): SvmPrediction {
  const scores = svmDecisionValues(model, x);
  let best = 0;
  for (let k = 1; k < scores.length; k++) if (scores[k]! > scores[best]!) best = k;
  const score = scores[best]!;
  const lowScore = score < (opts.threshold ?? 0);
  const far = opts.nearestDistance === undefined || opts.nearestDistance > (opts.tolerance ?? 0.6);
  const bestClass = model.classes[best]!;
  return { name: lowScore && far ? null : bestClass, score, bestClass, scores };
}

const isNumberArray = (v: unknown, length?: number): v is number[] =>
  Array.isArray(v) && (length === undefined || v.length === length) && v.every((x) => typeof x === 'number' && Number.isFinite(x));

/** Validates parsed JSON as a {@link LinearSvmModel}. @throws TypeError describing the first problem. */
export function parseLinearSvmModel(json: unknown): LinearSvmModel {
  const m = json as Partial<LinearSvmModel> | null;
  if (!m || m.kind !== 'linear-svm-ovr' || m.version !== 1) throw new TypeError('not a linear-svm-ovr version 1 model');
  if (!Array.isArray(m.classes) || !m.classes.every((c) => typeof c === 'string')) throw new TypeError('classes must be strings');
  if (typeof m.dim !== 'number' || !(m.dim > 0)) throw new TypeError('dim must be a positive number');
  const k = m.classes.length;
  if (!Array.isArray(m.weights) || m.weights.length !== k || !m.weights.every((w) => isNumberArray(w, m.dim))) throw new TypeError(`weights must be ${k} vectors of ${m.dim} numbers`);
  if (!isNumberArray(m.biases, k)) throw new TypeError(`biases must be ${k} numbers`);
  if (typeof m.c !== 'number' || (m.classWeight !== 'balanced' && m.classWeight !== 'none')) throw new TypeError('c / classWeight missing');
  return m as LinearSvmModel;
}
