/** One output tensor of a model run: row-major float32 data and its dimensions. */
export interface ModelTensor {
  data: Float32Array;
  dims: number[];
}

/** A model run's outputs by output name (see the manifest's `outputs`). */
export type ModelOutputs = Record<string, ModelTensor>;

/** Where ONNX Runtime executes a session. */
export type ExecutionProvider = 'cpu' | 'cuda' | 'webgpu';

export const EXECUTION_PROVIDERS: readonly ExecutionProvider[] = ['cpu', 'cuda', 'webgpu'];

/**
 * Detector candidates before NMS, as parallel typed arrays. Box `i` is
 * `boxes[4i..4i+3] = [x1, y1, x2, y2]`, normalised to the square model input (0..1 of its side;
 * values may fall slightly outside 0..1). For a photo of `w × h` letterboxed at the top-left
 * (padded with zeros at the bottom/right to a square of side `max(w, h)`), original-image pixels
 * are `value × max(w, h)`.
 */
export interface DetectionCandidates {
  count: number;
  boxes: Float32Array;
  scores: Float32Array;
  /** Anchor/cell index of each candidate in the raw output (for debugging and tests). */
  indices: Uint32Array;
}
