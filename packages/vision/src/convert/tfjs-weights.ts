/**
 * Reads TF.js layers/graph weights: a `*-weights_manifest.json` listing weight groups, each stored
 * in one or more `.bin` shards. Values are decoded exactly as tfjs-core's `io.decodeWeights` does
 * (uint8/uint16 affine quantisation `v * scale + min`, float16, int32 rounding), so the converted
 * graphs start from bit-identical float32 weights.
 */
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

export interface TfjsWeightSpec {
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32';
  quantization?: { dtype: 'uint8' | 'uint16' | 'float16'; scale?: number; min?: number };
}

export interface TfjsWeightGroup {
  paths: string[];
  weights: TfjsWeightSpec[];
}

export interface TfjsWeight {
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32';
  data: Float32Array | Int32Array;
}

const bytesPer = { float32: 4, int32: 4, uint8: 1, uint16: 2, float16: 2 } as const;

function float16ToFloat32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 0x1f) return fraction ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

/** Decodes one group's weights from its concatenated shard bytes. */
export function decodeTfjsWeights(specs: readonly TfjsWeightSpec[], bytes: Uint8Array): Map<string, TfjsWeight> {
  const out = new Map<string, TfjsWeight>();
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = 0;
  for (const spec of specs) {
    const size = spec.shape.reduce((a, b) => a * b, 1);
    const q = spec.quantization;
    const stored = q ? q.dtype : spec.dtype;
    const byteLength = size * bytesPer[stored];
    if (offset + byteLength > bytes.byteLength) {
      throw new Error(`weight ${spec.name}: needs bytes ${offset}..${offset + byteLength}, shards hold ${bytes.byteLength}`);
    }
    const read = (i: number): number => {
      const at = offset + i * bytesPer[stored];
      switch (stored) {
        case 'uint8':
          return view.getUint8(at);
        case 'uint16':
        case 'float16':
          return view.getUint16(at, true);
        case 'float32':
          return view.getFloat32(at, true);
        case 'int32':
          return view.getInt32(at, true);
      }
    };
    if (q && q.dtype !== 'float16' && (typeof q.scale !== 'number' || typeof q.min !== 'number')) {
      throw new Error(`weight ${spec.name}: ${q.dtype} quantisation without scale and min`);
    }
    const scale = q?.scale ?? 1;
    const min = q?.min ?? 0;
    let data: Float32Array | Int32Array;
    if (spec.dtype === 'float32') {
      data = new Float32Array(size);
      for (let i = 0; i < size; i++) {
        const v = read(i);
        if (!q) data[i] = v;
        else if (q.dtype === 'float16') data[i] = float16ToFloat32(v);
        else data[i] = v * scale + min;
      }
    } else if (spec.dtype === 'int32') {
      if (q?.dtype === 'float16') throw new Error(`weight ${spec.name}: float16 quantisation of int32`);
      data = new Int32Array(size);
      for (let i = 0; i < size; i++) {
        data[i] = q ? Math.round(read(i) * scale + min) : read(i);
      }
    } else {
      throw new Error(`weight ${(spec as TfjsWeightSpec).name}: unsupported dtype ${(spec as TfjsWeightSpec).dtype}`);
    }
    out.set(spec.name, { name: spec.name, shape: [...spec.shape], dtype: spec.dtype, data });
    offset += byteLength;
  }
  if (offset !== bytes.byteLength) {
    throw new Error(`weights use ${offset} bytes, shards hold ${bytes.byteLength}`);
  }
  return out;
}

export interface TfjsWeightsFile {
  /** Every weight by its TF name. */
  weights: Map<string, TfjsWeight>;
  /** The manifest and shard files read, with their contents (for hashing). */
  files: { path: string; bytes: Uint8Array }[];
}

/** Reads and decodes each group's shards (paths relative to `dir`), recording every file read in `files`. */
async function readWeightGroups(groups: readonly TfjsWeightGroup[], dir: string, files: TfjsWeightsFile['files']): Promise<Map<string, TfjsWeight>> {
  const weights = new Map<string, TfjsWeight>();
  for (const group of groups) {
    const shards = await Promise.all(group.paths.map((p) => readFile(join(dir, p))));
    const bytes = new Uint8Array(shards.reduce((n, s) => n + s.byteLength, 0));
    let at = 0;
    for (const [i, shard] of shards.entries()) {
      bytes.set(shard, at);
      at += shard.byteLength;
      files.push({ path: join(dir, group.paths[i]!), bytes: new Uint8Array(shard) });
    }
    for (const [name, w] of decodeTfjsWeights(group.weights, bytes)) weights.set(name, w);
  }
  return weights;
}

/** Reads a `*-weights_manifest.json` and every shard it names (paths relative to the manifest). */
export async function readTfjsWeights(manifestPath: string): Promise<TfjsWeightsFile> {
  const manifestBytes = new Uint8Array(await readFile(manifestPath));
  const groups = JSON.parse(new TextDecoder().decode(manifestBytes)) as TfjsWeightGroup[];
  if (!Array.isArray(groups)) throw new Error(`${manifestPath}: not a TF.js weights manifest`);
  const files: TfjsWeightsFile['files'] = [{ path: manifestPath, bytes: manifestBytes }];
  const weights = await readWeightGroups(groups, dirname(manifestPath), files);
  return { weights, files };
}

/** Looks a weight up by name, checking its shape. */
export function getWeight(weights: Map<string, TfjsWeight>, name: string, shape?: readonly number[]): Float32Array {
  const w = weights.get(name);
  if (!w) throw new Error(`weight ${name} is missing`);
  if (shape && (w.shape.length !== shape.length || w.shape.some((d, i) => d !== shape[i]))) {
    throw new Error(`weight ${name}: shape [${w.shape.join(',')}], expected [${shape.join(',')}]`);
  }
  if (!(w.data instanceof Float32Array)) throw new Error(`weight ${name} is ${w.dtype}, expected float32`);
  return w.data;
}

/** One node of a TF.js graph model's `modelTopology` (a TensorFlow GraphDef in JSON). */
export interface TfGraphNode {
  name: string;
  op: string;
  input?: string[];
  attr?: Record<string, TfAttr>;
}

/** The attribute forms a graph model's nodes use (strings are base64, as protobuf JSON writes bytes). */
export interface TfAttr {
  s?: string;
  b?: boolean;
  i?: string;
  f?: number;
  list?: { s?: string[]; i?: string[] };
}

export interface TfjsGraphModel extends TfjsWeightsFile {
  /** Every node of the graph by name. */
  nodes: Map<string, TfGraphNode>;
}

/** Reads a TF.js graph model (`model.json` with `modelTopology` and `weightsManifest`) and its shards. */
export async function readTfjsGraphModel(modelPath: string): Promise<TfjsGraphModel> {
  const modelBytes = new Uint8Array(await readFile(modelPath));
  const model = JSON.parse(new TextDecoder().decode(modelBytes)) as {
    format?: string;
    modelTopology?: { node?: TfGraphNode[] };
    weightsManifest?: TfjsWeightGroup[];
  };
  if (model.format !== 'graph-model' || !Array.isArray(model.modelTopology?.node) || !Array.isArray(model.weightsManifest)) {
    throw new Error(`${modelPath}: not a TF.js graph model`);
  }
  const files: TfjsWeightsFile['files'] = [{ path: modelPath, bytes: modelBytes }];
  const weights = await readWeightGroups(model.weightsManifest, dirname(modelPath), files);
  return { nodes: new Map(model.modelTopology.node.map((n) => [n.name, n])), weights, files };
}
