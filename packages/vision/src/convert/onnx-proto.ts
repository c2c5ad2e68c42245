/**
 * Plain descriptions of the ONNX messages facepipe writes, and their protobuf encoding.
 * Field numbers follow onnx/onnx.proto (IR version 8). Only what the converter needs is covered:
 * dense tensors (raw_data), scalar/list attributes, static and symbolic shapes.
 */
import { endianness } from 'node:os';
import { ProtoWriter } from './proto-writer.js';

/** TensorProto.DataType values used here. */
export const OnnxDataType = {
  FLOAT: 1,
  UINT8: 2,
  INT32: 6,
  INT64: 7,
} as const;
export type OnnxDataType = (typeof OnnxDataType)[keyof typeof OnnxDataType];

/** AttributeProto.AttributeType values used here. */
const AttributeType = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, FLOATS: 6, INTS: 7 } as const;

/** A dense tensor; `data`'s element type must match `dataType`. */
export interface TensorSpec {
  name: string;
  dims: readonly number[];
  dataType: OnnxDataType;
  data: Float32Array | Int32Array | BigInt64Array | Uint8Array;
}

export type AttributeValue =
  | { kind: 'float'; value: number }
  | { kind: 'int'; value: number }
  | { kind: 'string'; value: string }
  | { kind: 'floats'; value: readonly number[] }
  | { kind: 'ints'; value: readonly number[] }
  | { kind: 'tensor'; value: TensorSpec };

export interface NodeSpec {
  name: string;
  opType: string;
  inputs: readonly string[];
  outputs: readonly string[];
  attributes?: Readonly<Record<string, AttributeValue>>;
  domain?: string;
}

/** A tensor value's type: element type and shape (numbers are fixed, strings are symbolic dims). */
export interface ValueInfoSpec {
  name: string;
  elemType: OnnxDataType;
  shape: readonly (number | string)[];
  docString?: string;
}

export interface GraphSpec {
  name: string;
  nodes: readonly NodeSpec[];
  initializers: readonly TensorSpec[];
  inputs: readonly ValueInfoSpec[];
  outputs: readonly ValueInfoSpec[];
  docString?: string;
}

export interface ModelSpec {
  irVersion: number;
  opsetImports: readonly { domain: string; version: number }[];
  producerName: string;
  producerVersion: string;
  modelVersion?: number;
  docString?: string;
  graph: GraphSpec;
  metadata?: Readonly<Record<string, string>>;
}

const littleEndian = endianness() === 'LE';

function rawBytes(data: TensorSpec['data']): Uint8Array {
  if (!littleEndian) throw new Error('ONNX raw_data is little-endian; big-endian hosts are not supported');
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

const expectedArray: Record<OnnxDataType, string> = {
  [OnnxDataType.FLOAT]: 'Float32Array',
  [OnnxDataType.UINT8]: 'Uint8Array',
  [OnnxDataType.INT32]: 'Int32Array',
  [OnnxDataType.INT64]: 'BigInt64Array',
};

function encodeTensor(t: TensorSpec): ProtoWriter {
  const size = t.dims.reduce((a, b) => a * b, 1);
  if (t.data.length !== size) {
    throw new Error(`tensor ${t.name}: ${t.data.length} values for dims [${t.dims.join(',')}]`);
  }
  if (t.data.constructor.name !== expectedArray[t.dataType]) {
    throw new Error(`tensor ${t.name}: ${t.data.constructor.name} for data type ${t.dataType}`);
  }
  const w = new ProtoWriter();
  w.packedVarints(1, t.dims); // dims
  w.varint(2, t.dataType); // data_type
  w.string(8, t.name); // name
  w.bytes(9, rawBytes(t.data)); // raw_data
  return w;
}

function encodeAttribute(name: string, a: AttributeValue): ProtoWriter {
  const w = new ProtoWriter();
  w.string(1, name);
  switch (a.kind) {
    case 'float':
      w.float(2, a.value).varint(20, AttributeType.FLOAT);
      break;
    case 'int':
      w.varint(3, a.value).varint(20, AttributeType.INT);
      break;
    case 'string':
      w.string(4, a.value).varint(20, AttributeType.STRING);
      break;
    case 'tensor':
      w.message(5, encodeTensor(a.value)).varint(20, AttributeType.TENSOR);
      break;
    case 'floats':
      w.packedFloats(7, a.value).varint(20, AttributeType.FLOATS);
      break;
    case 'ints':
      w.packedVarints(8, a.value).varint(20, AttributeType.INTS);
      break;
  }
  return w;
}

function encodeNode(n: NodeSpec): ProtoWriter {
  const w = new ProtoWriter();
  for (const input of n.inputs) w.string(1, input);
  for (const output of n.outputs) w.string(2, output);
  w.string(3, n.name);
  w.string(4, n.opType);
  for (const [key, value] of Object.entries(n.attributes ?? {})) w.message(5, encodeAttribute(key, value));
  if (n.domain) w.string(7, n.domain);
  return w;
}

function encodeValueInfo(v: ValueInfoSpec): ProtoWriter {
  const shape = new ProtoWriter();
  for (const d of v.shape) {
    const dim = new ProtoWriter();
    if (typeof d === 'number') dim.varint(1, d); // dim_value
    else dim.string(2, d); // dim_param
    shape.message(1, dim);
  }
  const tensorType = new ProtoWriter().varint(1, v.elemType).message(2, shape);
  const type = new ProtoWriter().message(1, tensorType); // TypeProto.tensor_type
  const w = new ProtoWriter().string(1, v.name).message(2, type);
  if (v.docString) w.string(3, v.docString);
  return w;
}

function encodeGraph(g: GraphSpec): ProtoWriter {
  const w = new ProtoWriter();
  for (const n of g.nodes) w.message(1, encodeNode(n));
  w.string(2, g.name);
  for (const t of g.initializers) w.message(5, encodeTensor(t));
  if (g.docString) w.string(10, g.docString);
  for (const v of g.inputs) w.message(11, encodeValueInfo(v));
  for (const v of g.outputs) w.message(12, encodeValueInfo(v));
  return w;
}

/** Serialises a model to the bytes of an `.onnx` file. Deterministic: same spec, same bytes. */
export function encodeModel(m: ModelSpec): Uint8Array {
  const w = new ProtoWriter();
  w.varint(1, m.irVersion);
  w.string(2, m.producerName);
  w.string(3, m.producerVersion);
  if (m.modelVersion !== undefined) w.varint(5, m.modelVersion);
  if (m.docString) w.string(6, m.docString);
  w.message(7, encodeGraph(m.graph));
  for (const o of m.opsetImports) {
    const opset = new ProtoWriter();
    if (o.domain) opset.string(1, o.domain);
    opset.varint(2, o.version);
    w.message(8, opset);
  }
  for (const [key, value] of Object.entries(m.metadata ?? {})) {
    w.message(14, new ProtoWriter().string(1, key).string(2, value));
  }
  return w.finish();
}
