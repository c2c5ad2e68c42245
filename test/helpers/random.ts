/** Seeded xorshift32 in [0, 1): synthetic data that is the same on every run. */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
}

/** Standard normal samples (Box–Muller) from `random`. */
export function gaussian(random: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(random() + 1e-12)) * Math.cos(2 * Math.PI * random());
}

/** Synthetic 128-d embeddings from one seeded generator: random unit vectors, points around a centre, points along a line. */
export function embeddingSpace(seed: number, dims = 128) {
  const gauss = gaussian(seededRandom(seed));
  const unit = () => {
    const v = Array.from({ length: dims }, gauss);
    const n = Math.hypot(...v);
    return v.map((x) => x / n);
  };
  /** A point at about `r` from `c` in a random direction. */
  const around = (c: number[], r: number) => {
    const u = unit();
    return c.map((x, i) => x + u[i]! * r);
  };
  const along = (a: number[], b: number[], t: number) => a.map((x, i) => x + (b[i]! - x) * t);
  return { unit, around, along };
}
