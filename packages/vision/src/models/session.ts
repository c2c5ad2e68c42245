/**
 * ONNX Runtime sessions over the converted models. `run()` blocks the calling thread for the
 * whole inference (onnxruntime-node only defers with setImmediate), so services call models
 * through {@link InferencePool}, which keeps sessions in worker threads.
 */
import ort from 'onnxruntime-node';
import { FacepipeError } from '@facepipe/core/light';
import { MODEL_CONTRACTS, type ModelName } from './contract.js';
import { loadModelManifest, modelFilePath, type LoadedModelManifest } from './manifest.js';
import type { ExecutionProvider, ModelOutputs } from './types.js';
import { disableOrtTelemetry } from './ort-environment.js';

export interface SessionOptions {
  /**
   * Where to run. CUDA needs onnxruntime-node's CUDA binaries (`npm run install-cuda` after `npm ci`);
   * WebGPU (Dawn over Vulkan) is bundled on Linux x64 but needs a GPU adapter.
   * @defaultValue 'cpu'
   */
  executionProvider?: ExecutionProvider;
  /**
   * Threads ONNX Runtime uses inside one operator.
   * @defaultValue ONNX Runtime's choice (the number of physical cores)
   */
  intraOpThreads?: number;
  /**
   * Threads for running independent operators in parallel (only used in parallel execution mode).
   * @defaultValue ONNX Runtime's choice
   */
  interOpThreads?: number;
  /**
   * Whether ONNX Runtime's intra-op threads busy-wait for work after a run. Spinning saves a
   * little latency on a machine with cores to spare, but an idle session's spinning threads
   * steal the cores its neighbours need: with 2 intra-op threads, the SSD and landmark sessions
   * of one detect thread ran 126 + 11 ms spinning and 68 + 6 ms not (2-core machine).
   * @defaultValue false
   */
  intraOpSpinning?: boolean;
  /**
   * The manifest to take the model file from.
   * @defaultValue `loadModelManifest(modelsDir)`
   */
  manifest?: LoadedModelManifest;
  /**
   * Models folder, when no manifest is given.
   * @defaultValue the package's own models folder
   */
  modelsDir?: string;
}

/** A loaded model, ready to run NHWC float32 batches. */
export interface ModelSession {
  readonly name: ModelName;
  /** The manifest version, e.g. `face_recognition@face-api-1.7.15+1a2b3c4d`. */
  readonly version: string;
  readonly executionProvider: ExecutionProvider;
  /**
   * Runs a batch. `data` is NHWC `[batch, height, width, 3]`, RGB 0..255. Blocks this thread until
   * the inference is done.
   */
  run(data: Float32Array, batch: number, height: number, width: number): Promise<ModelOutputs>;
  release(): Promise<void>;
}

function providerConfig(ep: ExecutionProvider): ort.InferenceSession.ExecutionProviderConfig[] {
  switch (ep) {
    case 'cpu':
      return ['cpu'];
    case 'cuda':
      return [{ name: 'cuda', deviceId: 0 }, 'cpu'];
    case 'webgpu':
      return [{ name: 'webgpu' }, 'cpu'];
  }
}

const providerHint: Record<ExecutionProvider, string> = {
  cpu: '',
  cuda: ' The CUDA provider needs the CUDA files of onnxruntime-node: `npm run install-cuda` after `npm ci` (network and an NVIDIA GPU with CUDA 12 drivers).',
  webgpu: ' The WebGPU provider needs a GPU adapter (Dawn over Vulkan on Linux); CPU-only machines have none.',
};

/** Checks a run's input size against the model's contract; throws a non-retryable MODEL_ERROR. */
export function checkInputShape(name: ModelName, dataLength: number, batch: number, height: number, width: number): void {
  const bad = (why: string): never => {
    throw new FacepipeError('MODEL_ERROR', `${name}: ${why}`, { retryable: false });
  };
  if (!Number.isInteger(batch) || batch < 1) bad(`batch ${batch} must be a positive integer`);
  const [, h, w] = MODEL_CONTRACTS[name].input.shape;
  if (typeof h === 'number' && h !== height) bad(`input height ${height}, the model takes ${h}`);
  if (typeof w === 'number' && w !== width) bad(`input width ${width}, the model takes ${w}`);
  if ((name === 'ssd_mobilenetv1' || name === 'tiny_face_detector') && (height % 32 !== 0 || width % 32 !== 0 || height < 64 || width < 64)) {
    bad(`input ${width}×${height} must be multiples of 32 (at least 64)`);
  }
  if (dataLength !== batch * height * width * 3) bad(`${dataLength} values for [${batch}, ${height}, ${width}, 3]`);
}

/** Loads `modelName` into an ONNX Runtime session. Nothing is downloaded. */
export async function createSession(modelName: ModelName, options: SessionOptions = {}): Promise<ModelSession> {
  const ep = options.executionProvider ?? 'cpu';
  if (!(ep in providerHint)) throw new FacepipeError('MODEL_ERROR', `unknown execution provider ${String(ep)}`, { retryable: false });
  const manifest = options.manifest ?? (await loadModelManifest(options.modelsDir));
  const entry = manifest.models[modelName];
  if (!entry) throw new FacepipeError('MODEL_ERROR', `unknown model ${String(modelName)}`, { retryable: false });
  const sessionOptions: ort.InferenceSession.SessionOptions = {
    executionProviders: providerConfig(ep),
    graphOptimizationLevel: 'all',
    ...(options.intraOpThreads ? { intraOpNumThreads: options.intraOpThreads } : {}),
    ...(options.interOpThreads ? { interOpNumThreads: options.interOpThreads } : {}),
    extra: { session: { intra_op: { allow_spinning: options.intraOpSpinning ? '1' : '0' } } },
  };
  disableOrtTelemetry();
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(modelFilePath(manifest, modelName), sessionOptions);
  } catch (err) {
    throw new FacepipeError(
      'MODEL_ERROR',
      `${modelName}: cannot create an ONNX Runtime session on ${ep}: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}.${providerHint[ep]}`,
      { cause: err, retryable: false },
    );
  }
  const outputNames = MODEL_CONTRACTS[modelName].outputs.map((o) => o.name);
  let released = false;
  return {
    name: modelName,
    version: entry.version,
    executionProvider: ep,
    async run(data, batch, height, width) {
      if (released) throw new FacepipeError('MODEL_ERROR', `${modelName}: session was released`);
      checkInputShape(modelName, data.length, batch, height, width);
      let results: ort.InferenceSession.OnnxValueMapType;
      try {
        results = await session.run({ image: new ort.Tensor('float32', data, [batch, height, width, 3]) });
      } catch (err) {
        throw new FacepipeError('MODEL_ERROR', `${modelName}: inference failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
      }
      const outputs: ModelOutputs = {};
      for (const name of outputNames) {
        const t = results[name];
        if (!t || t.type !== 'float32') throw new FacepipeError('MODEL_ERROR', `${modelName}: output ${name} is missing or not float32`);
        outputs[name] = { data: t.data as Float32Array, dims: [...t.dims] };
      }
      return outputs;
    },
    async release() {
      if (released) return;
      released = true;
      await session.release();
    },
  };
}
