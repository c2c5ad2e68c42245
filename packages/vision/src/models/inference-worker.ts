/**
 * Worker-thread entry of {@link InferencePool}: holds one ONNX Runtime session per model and runs
 * batches sent by the pool, so the blocking `session.run()` never stalls the main event loop.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { FacepipeError } from '@facepipe/core/light';
import type { ModelName } from './contract.js';
import type { FromWorker, InferenceWorkerData, SerializedError, ToWorker } from './inference-protocol.js';
import { createSession, type ModelSession } from './session.js';

if (!parentPort) throw new Error('inference-worker must run in a worker thread');
const port = parentPort;
const config = workerData as InferenceWorkerData;
const sessions = new Map<ModelName, ModelSession>();

function serialize(err: unknown): SerializedError {
  const e = FacepipeError.from(err, 'MODEL_ERROR');
  return { message: e.message, retryable: e.retryable };
}

function post(message: FromWorker, transfer: ArrayBuffer[] = []): void {
  port.postMessage(message, transfer);
}

/** An array can be transferred when it owns its whole (non-shared) buffer; otherwise copy it. */
function transferable(data: Float32Array): Float32Array {
  return data.buffer instanceof ArrayBuffer && data.byteOffset === 0 && data.byteLength === data.buffer.byteLength ? data : data.slice();
}

async function init(): Promise<void> {
  try {
    for (const name of config.models) {
      sessions.set(
        name,
        await createSession(name, {
          manifest: config.manifest,
          executionProvider: config.executionProvider,
          ...(config.intraOpThreads ? { intraOpThreads: config.intraOpThreads } : {}),
          ...(config.interOpThreads ? { interOpThreads: config.interOpThreads } : {}),
          intraOpSpinning: config.intraOpSpinning ?? false,
        }),
      );
    }
    post({ type: 'ready', versions: Object.fromEntries([...sessions].map(([name, s]) => [name, s.version])) });
  } catch (err) {
    post({ type: 'init-error', error: serialize(err) });
  }
}

async function close(): Promise<void> {
  for (const s of sessions.values()) {
    try {
      await s.release();
    } catch {
      // keep releasing the others
    }
  }
  sessions.clear();
  post({ type: 'closed' });
  port.close();
}

// Runs are processed one at a time, in arrival order: ONNX Runtime already uses intra-op threads.
let queue: Promise<void> = init();
port.on('message', (msg: ToWorker) => {
  queue = queue.then(() => handle(msg)).catch((err: unknown) => {
    // only posting can fail here (handle() reports its own errors); keep the queue alive
    console.error(`[inference-worker] ${err instanceof Error ? err.message : String(err)}`);
  });
});

async function handle(msg: ToWorker): Promise<void> {
  if (msg.type === 'close') return close();
  const started = performance.now();
  try {
    const session = sessions.get(msg.model);
    if (!session) throw new FacepipeError('MODEL_ERROR', `model ${msg.model} is not loaded in this pool`, { retryable: false });
    const outputs = await session.run(msg.data, msg.batch, msg.height, msg.width);
    const transfer: ArrayBuffer[] = [];
    for (const out of Object.values(outputs)) {
      out.data = transferable(out.data);
      transfer.push(out.data.buffer as ArrayBuffer);
    }
    post({ type: 'result', id: msg.id, outputs, ms: performance.now() - started }, transfer);
  } catch (err) {
    post({ type: 'error', id: msg.id, error: serialize(err) });
  }
}
