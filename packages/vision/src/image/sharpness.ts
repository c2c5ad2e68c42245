/**
 * Sharpness of an RGB patch: the variance of its Laplacian (Pech-Pacheco et al. 2000), the usual
 * blur measure. A flat or blurred patch has little second-derivative energy; a sharp one has a lot.
 */

/**
 * Variance of the 4-neighbour Laplacian (`4·g(x,y) − g(x±1,y) − g(x,y±1)`) of the luma
 * (BT.601: 0.299 R + 0.587 G + 0.114 B, 0..255) over the interior pixels of a `width`×`height`
 * RGB patch at `offset`: 0 for a flat patch; for a patch with one pixel of luma v among zeros
 * (5 × 5 or larger), the interior's values are 4v once and −v four times.
 */
export function laplacianVariance(rgb: ArrayLike<number>, width: number, height: number, offset = 0): number {
  if (width < 3 || height < 3) throw new RangeError(`a Laplacian needs at least 3×3 pixels, got ${width}×${height}`);
  const luma = new Float64Array(width * height);
  for (let i = 0; i < width * height; i++) {
    const o = offset + i * 3;
    luma[i] = 0.299 * rgb[o]! + 0.587 * rgb[o + 1]! + 0.114 * rgb[o + 2]!;
  }
  let sum = 0, sumSq = 0;
  for (let y = 1; y < height - 1; y++) {
    for (let x = 1; x < width - 1; x++) {
      const i = y * width + x;
      const l = 4 * luma[i]! - luma[i - 1]! - luma[i + 1]! - luma[i - width]! - luma[i + width]!;
      sum += l;
      sumSq += l * l;
    }
  }
  const n = (width - 2) * (height - 2);
  const mean = sum / n;
  return sumSq / n - mean * mean;
}
