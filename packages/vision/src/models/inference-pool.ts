import { Worker } from 'node:worker_threads';
import { FacepipeError } from '@facepipe/core/light';
import { MODEL_NAMES, type ModelName } from './contract.js';
import type { FromWorker, InferenceWorkerData, SerializedError, ToWorker } from './inference-protocol.js';
import { loadModelManifest, type LoadedModelManifest } from './manifest.js';
import { disableOrtTelemetry } from './ort-environment.js';
import { checkInputShape, type SessionOptions } from './session.js';
import type { ModelOutputs } from './types.js';

/** Session settings (see {@link SessionOptions}) apply to every worker's sessions. */
export interface InferencePoolOptions
  extends Pick<SessionOptions, 'executionProvider' | 'intraOpThreads' | 'interOpThreads' | 'intraOpSpinning' | 'modelsDir'> {
  /**
   * Models each worker loads (sessions are created when the pool starts, so a bad model fails fast).
   * @defaultValue all of them (MODEL_NAMES)
   */
  models?: readonly ModelName[];
  /**
   * Worker threads; each holds its own sessions and runs one batch at a time.
   * @defaultValue 1
   */
  workers?: number;
  /**
   * Manifest to use (already verified).
   * @defaultValue `loadModelManifest(modelsDir)` at start
   */
  manifest?: LoadedModelManifest;
}

interface Pending {
  resolve: (outputs: ModelOutputs) => void;
  reject: (err: FacepipeError) => void;
}

interface Slot {
  worker: Worker;
  ready: Promise<void>;
  pending: Map<number, Pending>;
  alive: boolean;
  /** Called when the worker confirms close, or dies. */
  closed?: () => void;
  /** Called when the last pending run settles, or the worker dies. */
  idle?: () => void;
}

function toError(e: SerializedError): FacepipeError {
  return new FacepipeError('MODEL_ERROR', e.message, { retryable: e.retryable });
}

/** The compiled worker sits next to this file; under tsx (src) the .ts sibling is used. */
const workerUrl = new URL(import.meta.url.endsWith('.ts') ? './inference-worker.ts' : './inference-worker.js', import.meta.url);

/**
 * Runs models in worker threads so inference never blocks the event loop (BullMQ lock renewal,
 * HTTP, timers keep running). Inputs and outputs move between threads by transferring their
 * ArrayBuffers, without copies.
 *
 * ```ts
 * const pool = new InferencePool({ models: ['face_recognition'] });
 * const { embedding } = await pool.run('face_recognition', nhwc, 32, 150, 150);
 * await pool.close();
 * ```
 */
export class InferencePool {
  readonly #options: InferencePoolOptions;
  readonly #models: ModelName[];
  #manifest: LoadedModelManifest | undefined;
  #slots: Slot[] = [];
  #started: Promise<void> | undefined;
  #closing: Promise<void> | undefined;
  #nextId = 1;
  #versions: Partial<Record<ModelName, string>> = {};

  constructor(options: InferencePoolOptions = {}) {
    const workers = options.workers ?? 1;
    if (!Number.isInteger(workers) || workers < 1) throw new FacepipeError('MODEL_ERROR', `workers must be a positive integer, got ${workers}`, { retryable: false });
    this.#options = { ...options, workers };
    this.#models = [...(options.models ?? MODEL_NAMES)];
    this.#manifest = options.manifest;
  }

  /** Model versions (from the manifest) of the loaded models, once started. */
  get versions(): Partial<Record<ModelName, string>> {
    return { ...this.#versions };
  }

  /** Loads the manifest, starts the workers and waits until every session is created. Idempotent. */
  start(): Promise<void> {
    if (this.#closing) return Promise.reject(new FacepipeError('MODEL_ERROR', 'inference pool is closed'));
    this.#started ??= (async () => {
      this.#manifest ??= await loadModelManifest(this.#options.modelsDir);
      disableOrtTelemetry(); // before any worker thread creates ONNX Runtime's environment
      for (const name of this.#models) this.#versions[name] = this.#manifest.models[name].version;
      while (this.#slots.length < (this.#options.workers ?? 1)) this.#slots.push(this.#spawn(this.#manifest));
      await Promise.all(this.#slots.map((s) => s.ready));
    })();
    this.#started.catch(() => {
      // a failed start may be retried by the next start()/run()
      this.#started = undefined;
      for (const slot of this.#slots) void slot.worker.terminate();
      this.#slots = [];
    });
    return this.#started;
  }

  #spawn(manifest: LoadedModelManifest): Slot {
    const data: InferenceWorkerData = {
      manifest,
      models: this.#models,
      executionProvider: this.#options.executionProvider ?? 'cpu',
      ...(this.#options.intraOpThreads ? { intraOpThreads: this.#options.intraOpThreads } : {}),
      ...(this.#options.interOpThreads ? { interOpThreads: this.#options.interOpThreads } : {}),
      intraOpSpinning: this.#options.intraOpSpinning ?? false,
    };
    // Referenced while starting or busy, so a process awaiting the pool stays alive; unreferenced
    // when idle, so a forgotten close() does not keep the process running.
    const worker = new Worker(workerUrl, { workerData: data, name: 'facepipe-inference' });
    let onReady!: () => void;
    let onInitError!: (err: FacepipeError) => void;
    const ready = new Promise<void>((resolve, reject) => {
      onReady = resolve;
      onInitError = reject;
    });
    ready.catch(() => {}); // observed by start()/run(); never an unhandled rejection
    const slot: Slot = { worker, ready, pending: new Map(), alive: true };

    const fail = (err: FacepipeError): void => {
      if (!slot.alive) return;
      slot.alive = false;
      this.#slots = this.#slots.filter((s) => s !== slot);
      onInitError(err);
      for (const p of slot.pending.values()) p.reject(err);
      slot.pending.clear();
      slot.idle?.();
      slot.closed?.();
    };

    worker.on('message', (msg: FromWorker) => {
      switch (msg.type) {
        case 'ready':
          if (slot.pending.size === 0) worker.unref();
          onReady();
          break;
        case 'init-error':
          fail(toError(msg.error));
          void worker.terminate();
          break;
        case 'result':
        case 'error': {
          const p = slot.pending.get(msg.id);
          slot.pending.delete(msg.id);
          if (msg.type === 'result') p?.resolve(msg.outputs);
          else p?.reject(toError(msg.error));
          if (slot.pending.size === 0) {
            worker.unref();
            slot.idle?.();
          }
          break;
        }
        case 'closed':
          slot.alive = false;
          slot.closed?.();
          break;
      }
    });
    worker.on('error', (err) => fail(new FacepipeError('MODEL_ERROR', `inference worker crashed: ${err.message}`, { cause: err })));
    worker.on('exit', (code) => fail(new FacepipeError('MODEL_ERROR', `inference worker exited with code ${code}`)));
    return slot;
  }

  /**
   * Runs one batch. `data` is NHWC `[batch, height, width, 3]`, RGB 0..255. When `data` spans its
   * whole ArrayBuffer, that buffer is transferred to the worker (and detached here); otherwise it
   * is copied once. Output arrays arrive by transfer too.
   * Errors are FacepipeError('MODEL_ERROR').
   */
  async run(model: ModelName, data: Float32Array, batch: number, height: number, width: number): Promise<ModelOutputs> {
    if (this.#closing) throw new FacepipeError('MODEL_ERROR', 'inference pool is closed');
    if (!this.#models.includes(model)) throw new FacepipeError('MODEL_ERROR', `model ${model} is not loaded in this pool (${this.#models.join(', ')})`, { retryable: false });
    checkInputShape(model, data.length, batch, height, width);
    await this.start();
    // replace workers that died since (their jobs were already rejected)
    if (this.#slots.length < (this.#options.workers ?? 1) && this.#manifest) {
      while (this.#slots.length < (this.#options.workers ?? 1)) this.#slots.push(this.#spawn(this.#manifest));
    }
    const slot = this.#slots.reduce((best, s) => (s.pending.size < best.pending.size ? s : best));
    await slot.ready;
    if (!slot.alive) throw new FacepipeError('MODEL_ERROR', 'inference worker is gone');
    const owned = data.buffer instanceof ArrayBuffer && data.byteOffset === 0 && data.byteLength === data.buffer.byteLength;
    const payload = owned ? data : data.slice();
    const id = this.#nextId++;
    return new Promise<ModelOutputs>((resolve, reject) => {
      slot.pending.set(id, { resolve, reject });
      slot.worker.ref();
      const msg: ToWorker = { type: 'run', id, model, data: payload, batch, height, width };
      try {
        slot.worker.postMessage(msg, [payload.buffer as ArrayBuffer]);
      } catch (err) {
        slot.pending.delete(id);
        reject(FacepipeError.from(err, 'MODEL_ERROR'));
      }
    });
  }

  /**
   * Stops accepting work, waits for running batches, releases the sessions and ends the workers.
   * Idempotent: later calls return the same promise.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      try {
        await this.#started;
      } catch {
        // nothing started
      }
      await Promise.all(
        this.#slots.map(async (slot) => {
          if (slot.pending.size > 0) await new Promise<void>((res) => (slot.idle = res));
          if (slot.alive) {
            const closed = new Promise<void>((res) => (slot.closed = res));
            slot.worker.ref();
            slot.worker.postMessage({ type: 'close' } satisfies ToWorker);
            await Promise.race([closed, new Promise((res) => setTimeout(res, 5000).unref())]);
          }
          try {
            await slot.worker.terminate();
          } catch {
            // already gone
          }
        }),
      );
      this.#slots = [];
    })();
    return this.#closing;
  }
}
