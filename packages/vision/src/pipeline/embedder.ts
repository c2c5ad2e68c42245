import { FacepipeError } from '@facepipe/core/light';
import { flipHorizontal } from '../geometry/index.js';
import type { InferencePool } from '../models/index.js';
import { CHIP_SIZE } from './chips.js';

export const EMBEDDING_DIMS = 128;

/**
 * The recognition network over aligned chips: N×150×150×3 → N×128, in batches of at most
 * `maxBatch`, off the event loop. With `flip`, each chip's embedding is the mean of the
 * embeddings of the chip and its mirror image (test-time augmentation).
 */
export class Embedder {
  constructor(
    readonly pool: InferencePool,
    readonly options: { flip: boolean; maxBatch?: number; chipSize?: number } = { flip: false },
  ) {}

  get chipSize(): number {
    return this.options.chipSize ?? CHIP_SIZE;
  }

  /** `chips`: count × size × size × 3 bytes. Returns count × 128 floats. */
  async embed(chips: Uint8Array, count: number): Promise<Float32Array> {
    const size = this.chipSize;
    const per = size * size * 3;
    if (chips.length !== count * per) throw new FacepipeError('INVALID_PAYLOAD', `expected ${count} chips of ${per} bytes, got ${chips.length} bytes`);
    const out = new Float32Array(count * EMBEDDING_DIMS);
    const maxBatch = this.options.maxBatch ?? 64;
    for (let start = 0; start < count; start += maxBatch) {
      const n = Math.min(maxBatch, count - start);
      const part = await this.#embedBatch(chips.subarray(start * per, (start + n) * per), n);
      out.set(part, start * EMBEDDING_DIMS);
    }
    return out;
  }

  async #embedBatch(chips: Uint8Array, n: number): Promise<Float32Array> {
    const size = this.chipSize;
    const per = size * size * 3;
    const flip = this.options.flip;
    const batch = flip ? n * 2 : n;
    const input = new Float32Array(batch * per);
    for (let i = 0; i < n * per; i++) input[i] = chips[i]!;
    if (flip) {
      for (let i = 0; i < n; i++) {
        input.set(flipHorizontal(input.subarray(i * per, (i + 1) * per), size, size), (n + i) * per);
      }
    }
    const out = await this.pool.run('face_recognition', input, batch, size, size);
    const raw = out.embedding!.data;
    if (!flip) return raw.slice(0, n * EMBEDDING_DIMS);
    const mean = new Float32Array(n * EMBEDDING_DIMS);
    for (let i = 0; i < n * EMBEDDING_DIMS; i++) mean[i] = (raw[i]! + raw[n * EMBEDDING_DIMS + i]!) / 2;
    return mean;
  }
}
