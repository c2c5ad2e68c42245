/** Messages between {@link InferencePool} and its worker threads (structured-clone safe). */
import type { ModelName } from './contract.js';
import type { LoadedModelManifest } from './manifest.js';
import type { ExecutionProvider, ModelOutputs } from './types.js';

export interface InferenceWorkerData {
  manifest: LoadedModelManifest;
  models: ModelName[];
  executionProvider: ExecutionProvider;
  intraOpThreads?: number;
  interOpThreads?: number;
  intraOpSpinning?: boolean;
}

export type ToWorker =
  | { type: 'run'; id: number; model: ModelName; data: Float32Array; batch: number; height: number; width: number }
  | { type: 'close' };

export interface SerializedError {
  message: string;
  retryable: boolean;
}

export type FromWorker =
  | { type: 'ready'; versions: Partial<Record<ModelName, string>> }
  | { type: 'init-error'; error: SerializedError }
  | { type: 'result'; id: number; outputs: ModelOutputs; ms: number }
  | { type: 'error'; id: number; error: SerializedError }
  | { type: 'closed' };
