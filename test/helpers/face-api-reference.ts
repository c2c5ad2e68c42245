/**
 * The reference implementation for parity tests: @vladmandic/face-api 1.7.15
 * (dist/face-api.node-wasm.js) on @tensorflow/tfjs 4.22's CPU backend, with weights from the
 * package's own model folder.
 *
 * face-api.node-wasm.js requires '@tensorflow/tfjs-backend-wasm' only to re-export it; that package
 * is not installed, so the require is pointed at an empty stub while face-api loads.
 */
import Module, { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const stub = fileURLToPath(new URL('./tfjs-backend-wasm-stub.cjs', import.meta.url));

type Resolve = (request: string, ...rest: unknown[]) => string;

// Minimal typings for what the tests use.
export interface TfTensor {
  shape: number[];
  dataSync(): Float32Array;
  dispose(): void;
}
export interface Tf {
  setBackend(name: string): Promise<boolean>;
  ready(): Promise<void>;
  getBackend(): string;
  tensor4d(data: Float32Array, shape: [number, number, number, number]): TfTensor;
  version: Record<string, string>;
}
interface Net {
  loadFromDisk(dir: string): Promise<void>;
}
export interface FaceApi {
  version: string;
  nets: {
    ssdMobilenetv1: Net & { forward(x: TfTensor): Promise<{ boxes: TfTensor[]; scores: TfTensor[] }> };
    tinyFaceDetector: Net & { forward(x: TfTensor, inputSize: number): Promise<TfTensor> };
    faceLandmark68Net: Net & { forward(x: TfTensor): Promise<TfTensor> };
    faceRecognitionNet: Net & { forward(x: TfTensor): Promise<TfTensor> };
  };
}

let loaded: Promise<{ tf: Tf; faceapi: FaceApi }> | undefined;

/** Loads tfjs (CPU backend) and face-api with all four nets' weights, once per process. */
export function loadFaceApiReference(): Promise<{ tf: Tf; faceapi: FaceApi }> {
  loaded ??= (async () => {
    const M = Module as unknown as { _resolveFilename: Resolve };
    const original = M._resolveFilename;
    M._resolveFilename = function (this: unknown, request: string, ...rest: unknown[]) {
      return request === '@tensorflow/tfjs-backend-wasm' ? stub : original.call(this, request, ...rest);
    };
    let tf: Tf;
    let faceapi: FaceApi;
    try {
      tf = require('@tensorflow/tfjs') as Tf;
      faceapi = require('@vladmandic/face-api/dist/face-api.node-wasm.js') as FaceApi;
    } finally {
      M._resolveFilename = original;
    }
    await tf.setBackend('cpu');
    await tf.ready();
    const modelDir = join(dirname(require.resolve('@vladmandic/face-api/package.json')), 'model');
    const { nets } = faceapi;
    await Promise.all([nets.ssdMobilenetv1, nets.tinyFaceDetector, nets.faceLandmark68Net, nets.faceRecognitionNet].map((n) => n.loadFromDisk(modelDir)));
    return { tf, faceapi };
  })();
  return loaded;
}
