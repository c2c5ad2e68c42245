import { test } from 'node:test';
import assert from 'node:assert/strict';
import ort from 'onnxruntime-node';
import { encodeVarint, ProtoWriter } from '../../packages/vision/dist/convert/proto-writer.js';
import { encodeModel, OnnxDataType } from '../../packages/vision/dist/convert/onnx-proto.js';
import { GraphBuilder, attr } from '../../packages/vision/dist/convert/graph-builder.js';

test('varints follow the protobuf wire format', () => {
  assert.deepEqual([...encodeVarint(0)], [0]);
  assert.deepEqual([...encodeVarint(1)], [1]);
  assert.deepEqual([...encodeVarint(150)], [0x96, 0x01]); // the protobuf docs' example
  assert.deepEqual([...encodeVarint(300)], [0xac, 0x02]);
  assert.deepEqual([...encodeVarint(2 ** 31)], [0x80, 0x80, 0x80, 0x80, 0x08]);
  // negative int64: ten bytes, two's complement
  assert.deepEqual([...encodeVarint(-1)], [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
});

test('ProtoWriter encodes fields and nested messages', () => {
  // field 1 varint 150 = 08 96 01 (protobuf docs); field 2 string "testing" = 12 07 74 65 73 74 69 6e 67
  const inner = new ProtoWriter().varint(1, 150);
  const bytes = new ProtoWriter().message(3, inner).string(2, 'testing').finish();
  assert.deepEqual([...bytes], [0x1a, 0x03, 0x08, 0x96, 0x01, 0x12, 0x07, 0x74, 0x65, 0x73, 0x74, 0x69, 0x6e, 0x67]);
  assert.deepEqual([...new ProtoWriter().float(2, 1).finish()], [0x15, 0x00, 0x00, 0x80, 0x3f]);
});

test('a Conv + LeakyRelu + Reshape graph round-trips through onnxruntime-node', async () => {
  const g = new GraphBuilder('tiny');
  const x = g.input('x', OnnxDataType.FLOAT, ['N', 1, 3, 3]);
  // 2×2 kernel [[1, 0], [0, 1]]: each output is the sum of a pixel and its lower-right neighbour
  const w = g.floats('w', [1, 1, 2, 2], [1, 0, 0, 1]);
  const b = g.floats('b', [1], [-10]);
  const conv = g.op('Conv', [x, w, b], { kernel_shape: attr.ints([2, 2]), strides: attr.ints([1, 1]), pads: attr.ints([0, 0, 0, 0]) });
  const leaky = g.op('LeakyRelu', [conv], { alpha: attr.float(0.5) });
  const flat = g.op('Reshape', [leaky, g.int64s('shape', [0, -1])]);
  g.output(flat, 'y', OnnxDataType.FLOAT, ['N', 4]);
  const bytes = encodeModel({
    irVersion: 8,
    opsetImports: [{ domain: '', version: 17 }],
    producerName: 'test',
    producerVersion: '0',
    graph: g.build(),
    metadata: { purpose: 'round trip' },
  });
  const session = await ort.InferenceSession.create(bytes);
  assert.deepEqual(session.inputNames, ['x']);
  assert.deepEqual(session.outputNames, ['y']);
  const input = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 20, 30, 40, 50, 60, 70, 80, 90]);
  const { y } = await session.run({ x: new ort.Tensor('float32', input, [2, 1, 3, 3]) });
  assert.deepEqual(y!.dims, [2, 4]);
  // image 1: 1+5, 2+6, 4+8, 5+9 = 6, 8, 12, 14; -10 → -4, -2, 2, 4; leaky(0.5) → -2, -1, 2, 4
  // image 2: 60, 80, 120, 140 → 50, 70, 110, 130
  assert.deepEqual([...(y!.data as Float32Array)], [-2, -1, 2, 4, 50, 70, 110, 130]);
  await session.release();
});

test('encodeModel is deterministic', () => {
  const build = () => {
    const g = new GraphBuilder('id');
    const x = g.input('x', OnnxDataType.FLOAT, [1]);
    g.output(g.op('Relu', [x]), 'y', OnnxDataType.FLOAT, [1]);
    return encodeModel({ irVersion: 8, opsetImports: [{ domain: '', version: 17 }], producerName: 'p', producerVersion: '1', graph: g.build() });
  };
  assert.deepEqual(build(), build());
});
