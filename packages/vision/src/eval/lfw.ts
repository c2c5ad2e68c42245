/**
 * LFW "View 2" face verification: pairs files, k-fold threshold selection, accuracy, ROC AUC.
 *
 * Protocol (LFW technical report, "unrestricted / labelled outside data" setting as face_recognition
 * and dlib report it): for each fold, choose the distance threshold that maximises accuracy on the
 * other folds, then measure accuracy on the fold with it. Report the mean and spread over folds.
 */

/** One verification pair. Image numbers are LFW's 1-based numbers. */
export interface LfwPair {
  readonly nameA: string;
  readonly indexA: number;
  readonly nameB: string;
  readonly indexB: number;
  /** Both images show the same person. */
  readonly same: boolean;
  /** Fold id, 0-based. */
  readonly fold: number;
}

/** A parsed pairs file. */
export interface LfwPairs {
  /** Number of folds used for evaluation (after any split of a single-fold file). */
  readonly folds: number;
  readonly pairs: readonly LfwPair[];
  /** `'file'`: folds as in the file; `'split'`: a single-fold file split by {@link assignFolds}. */
  readonly foldSource: 'file' | 'split';
}

/** Options for {@link parseLfwPairs}. */
export interface ParseLfwPairsOptions {
  /**
   * When the file has a single fold (e.g. `1<TAB>140`), split its pairs into this many folds so the
   * threshold is still chosen on pairs it is not tested on (at most `n` folds, for `n` pairs of
   * each kind). 0 or 1 keeps the single fold.
   * @defaultValue 10
   */
  readonly splitSingleFoldInto?: number;
}

/** Path of image `index` of `name` under an LFW root: `<root>/<name>/<name>_<0001>.jpg`. */
export function lfwImagePath(root: string, name: string, index: number): string {
  const base = root.endsWith('/') ? root.slice(0, -1) : root;
  return `${base}/${name}/${name}_${String(index).padStart(4, '0')}.jpg`;
}

function parsePositiveInt(text: string, what: string, line: number): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new SyntaxError(`pairs file line ${line}: ${what} "${text}" is not a positive integer`);
  return n;
}

/**
 * Fold ids for `n` matched and `n` mismatched pairs split into `k` folds: contiguous blocks of
 * each kind, `fold = floor(i·k / n)`, so every fold has ⌊n/k⌋ or ⌈n/k⌉ pairs of each kind and
 * consecutive pairs (often the same person) stay together, as in LFW's own folds.
 */
export function assignFolds(n: number, k: number): number[] {
  if (!(Number.isInteger(k) && k >= 1 && k <= n)) throw new RangeError(`cannot split ${n} pairs of each kind into ${k} folds`);
  return Array.from({ length: n }, (_, i) => Math.floor((i * k) / n));
}

/**
 * Parses an LFW pairs file: a header `folds<TAB>n` (or just `n`: one fold), then per fold `n`
 * matched lines `name<TAB>i<TAB>j` followed by `n` mismatched lines `name1<TAB>i<TAB>name2<TAB>j`.
 * A single-fold file is split into `splitSingleFoldInto` folds (default 10) with {@link assignFolds}.
 * @throws SyntaxError naming the first bad line.
 */
export function parseLfwPairs(text: string, opts: ParseLfwPairsOptions = {}): LfwPairs {
  const lines = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l.length > 0);
  if (lines.length === 0) throw new SyntaxError('pairs file is empty');
  const header = lines[0]!.split(/\s+/);
  const fileFolds = header.length >= 2 ? parsePositiveInt(header[0]!, 'fold count', 1) : 1;
  const n = parsePositiveInt(header[header.length >= 2 ? 1 : 0]!, 'pairs per fold', 1);
  if (lines.length - 1 !== fileFolds * 2 * n) {
    throw new SyntaxError(`pairs file declares ${fileFolds} folds of ${n}+${n} pairs but has ${lines.length - 1} pair lines`);
  }
  const split = Math.min(opts.splitSingleFoldInto ?? 10, n);
  const doSplit = fileFolds === 1 && split > 1;
  const pairs: LfwPair[] = [];
  for (let f = 0; f < fileFolds; f++) {
    for (let j = 0; j < 2 * n; j++) {
      const lineNo = 2 + f * 2 * n + j;
      const fields = lines[lineNo - 1]!.split(/\s+/);
      const same = j < n;
      const fold = f; // replaced below when a single fold is split
      if (same) {
        if (fields.length !== 3) throw new SyntaxError(`pairs file line ${lineNo}: expected "name i j", got "${lines[lineNo - 1]}"`);
        const [name, i, k] = fields as [string, string, string];
        pairs.push({ nameA: name, indexA: parsePositiveInt(i, 'image number', lineNo), nameB: name, indexB: parsePositiveInt(k, 'image number', lineNo), same, fold });
      } else {
        if (fields.length !== 4) throw new SyntaxError(`pairs file line ${lineNo}: expected "name1 i name2 j", got "${lines[lineNo - 1]}"`);
        const [a, i, b, k] = fields as [string, string, string, string];
        pairs.push({ nameA: a, indexA: parsePositiveInt(i, 'image number', lineNo), nameB: b, indexB: parsePositiveInt(k, 'image number', lineNo), same, fold });
      }
    }
  }
  if (!doSplit) return { folds: fileFolds, pairs, foldSource: 'file' };
  const splitFolds = assignFolds(n, split);
  return { folds: split, pairs: pairs.map((p, j) => ({ ...p, fold: splitFolds[j % n]! })), foldSource: 'split' };
}

/** Accuracy of the rule "same ⇔ distance ≤ threshold" on pairs with the given indices. */
export function verificationAccuracy(distances: ArrayLike<number>, same: ArrayLike<boolean>, threshold: number, indices?: readonly number[]): number {
  const idx = indices ?? Array.from({ length: distances.length }, (_, i) => i);
  if (idx.length === 0) return Number.NaN;
  let correct = 0;
  for (const i of idx) if ((distances[i]! <= threshold) === same[i]) correct++;
  return correct / idx.length;
}

/**
 * The threshold maximising accuracy of "same ⇔ distance ≤ t" on the given pairs. Candidates are
 * the midpoints between consecutive distinct distances (plus one below the minimum and one above
 * the maximum); of the first run of equally best candidates, the middle of the run is returned.
 */
export function bestThreshold(distances: ArrayLike<number>, same: ArrayLike<boolean>, indices?: readonly number[]): { threshold: number; accuracy: number } {
  const idx = [...(indices ?? Array.from({ length: distances.length }, (_, i) => i))].sort((a, b) => distances[a]! - distances[b]!);
  if (idx.length === 0) throw new RangeError('bestThreshold needs at least one pair');
  const totalDifferent = idx.reduce((k, i) => k + (same[i] ? 0 : 1), 0);
  // Sweep: candidate c sits below the c-th distinct value; correct = same ≤ t + different > t.
  const candidates: number[] = [];
  const correct: number[] = [];
  let sameBelow = 0;
  let differentBelow = 0;
  let prev = distances[idx[0]!]!;
  candidates.push(prev - 1);
  correct.push(totalDifferent);
  for (let p = 0; p < idx.length; ) {
    const value = distances[idx[p]!]!;
    if (p > 0) {
      candidates.push((prev + value) / 2);
      correct.push(sameBelow + totalDifferent - differentBelow);
    }
    while (p < idx.length && distances[idx[p]!] === value) {
      if (same[idx[p]!]) sameBelow++;
      else differentBelow++;
      p++;
    }
    prev = value;
  }
  candidates.push(prev + 1);
  correct.push(sameBelow + totalDifferent - differentBelow);

  const best = Math.max(...correct);
  const start = correct.indexOf(best);
  let end = start;
  while (end + 1 < correct.length && correct[end + 1] === best) end++;
  const threshold = start === end ? candidates[start]! : (candidates[start]! + candidates[end]!) / 2;
  return { threshold, accuracy: best / idx.length };
}

/**
 * Exact ROC AUC by ranks (Mann–Whitney U): the probability that a random positive scores higher
 * than a random negative, ties counting one half. Higher score = more likely positive; for
 * distances pass their negatives.
 * @returns NaN when either class is empty.
 */
export function rocAuc(scores: ArrayLike<number>, positive: ArrayLike<boolean>): number {
  const n = scores.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a]! - scores[b]!);
  let rankSumPositive = 0;
  let nPos = 0;
  for (let p = 0; p < n; ) {
    let q = p;
    while (q + 1 < n && scores[order[q + 1]!] === scores[order[p]!]) q++;
    const averageRank = (p + q) / 2 + 1; // 1-based ranks p+1..q+1
    for (let r = p; r <= q; r++) if (positive[order[r]!]) {
      rankSumPositive += averageRank;
      nPos++;
    }
    p = q + 1;
  }
  const nNeg = n - nPos;
  if (nPos === 0 || nNeg === 0) return Number.NaN;
  return (rankSumPositive - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
}

/** Per-fold outcome of {@link evaluateVerification}. */
export interface FoldResult {
  readonly fold: number;
  /** Threshold chosen on the other folds. */
  readonly threshold: number;
  /** Accuracy on this fold with that threshold. */
  readonly accuracy: number;
  readonly pairs: number;
}

/** Cross-validated verification results. */
export interface VerificationResult {
  /** Mean of the per-fold accuracies. */
  readonly accuracy: number;
  /** Sample standard deviation of the per-fold accuracies (n − 1; 0 for one fold). */
  readonly std: number;
  /** `std / √folds`, the standard error LFW asks for. */
  readonly standardError: number;
  /** Mean of the per-fold thresholds. */
  readonly threshold: number;
  /** ROC AUC over all pairs (score = −distance). */
  readonly auc: number;
  readonly folds: readonly FoldResult[];
}

/**
 * k-fold verification evaluation: for each fold, the best threshold on the other folds
 * ({@link bestThreshold}) is applied to the fold. With a single fold the threshold is chosen and
 * tested on the same pairs (optimistic; split single-fold files with {@link parseLfwPairs}).
 */
export function evaluateVerification(distances: ArrayLike<number>, same: ArrayLike<boolean>, folds: ArrayLike<number>): VerificationResult {
  const n = distances.length;
  if (same.length !== n || folds.length !== n) throw new RangeError('distances, labels and folds differ in length');
  if (n === 0) throw new RangeError('no pairs to evaluate');
  const foldIds = [...new Set(Array.from(folds))].sort((a, b) => a - b);
  const results: FoldResult[] = foldIds.map((fold) => {
    const test: number[] = [];
    const train: number[] = [];
    for (let i = 0; i < n; i++) (folds[i] === fold ? test : train).push(i);
    const { threshold } = bestThreshold(distances, same, foldIds.length > 1 ? train : test);
    return { fold, threshold, accuracy: verificationAccuracy(distances, same, threshold, test), pairs: test.length };
  });
  const k = results.length;
  const accuracy = results.reduce((s, r) => s + r.accuracy, 0) / k;
  const variance = k > 1 ? results.reduce((s, r) => s + (r.accuracy - accuracy) ** 2, 0) / (k - 1) : 0;
  const std = Math.sqrt(variance);
  const scores = Array.from(distances, (d) => -d);
  return {
    accuracy,
    std,
    standardError: std / Math.sqrt(k),
    threshold: results.reduce((s, r) => s + r.threshold, 0) / k,
    auc: rocAuc(scores, same),
    folds: results,
  };
}
