import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeTfjsWeights } from '../../packages/vision/dist/convert/tfjs-weights.js';
import { depthwiseToOihw, hwioToOihw, tfPads } from '../../packages/vision/dist/convert/layers.js';

test('TF.js weights decode like tfjs-core (float32, uint8 affine, float16, quantised int32)', () => {
  const bytes = new Uint8Array(8 + 3 + 4 + 2);
  new DataView(bytes.buffer).setFloat32(0, 1.5, true);
  new DataView(bytes.buffer).setFloat32(4, -2, true);
  bytes.set([0, 1, 255], 8); // uint8: v * 0.5 + (-1) → -1, -0.5, 126.5
  new DataView(bytes.buffer).setUint16(11, 0x3c00, true); // float16 1.0
  new DataView(bytes.buffer).setUint16(13, 0xc000, true); // float16 -2.0
  bytes.set([3, 4], 15); // int32 via uint8: round(v * 1 + 1) → 4, 5
  const w = decodeTfjsWeights(
    [
      { name: 'a', shape: [2], dtype: 'float32' },
      { name: 'b', shape: [3], dtype: 'float32', quantization: { dtype: 'uint8', scale: 0.5, min: -1 } },
      { name: 'c', shape: [2], dtype: 'float32', quantization: { dtype: 'float16' } },
      { name: 'd', shape: [2], dtype: 'int32', quantization: { dtype: 'uint8', scale: 1, min: 1 } },
    ],
    bytes,
  );
  assert.deepEqual([...w.get('a')!.data], [1.5, -2]);
  assert.deepEqual([...w.get('b')!.data], [-1, -0.5, 126.5]);
  assert.deepEqual([...w.get('c')!.data], [1, -2]);
  assert.ok(w.get('d')!.data instanceof Int32Array);
  assert.deepEqual([...w.get('d')!.data], [4, 5]);
});

test('decoding fails when the shards are shorter or longer than the specs', () => {
  assert.throws(() => decodeTfjsWeights([{ name: 'a', shape: [2], dtype: 'float32' }], new Uint8Array(4)), /needs bytes/);
  assert.throws(() => decodeTfjsWeights([{ name: 'a', shape: [1], dtype: 'float32' }], new Uint8Array(8)), /shards hold 8/);
});

test('TF "same" padding puts the odd pixel at the end', () => {
  assert.deepEqual(tfPads(512, 3, 2, 'same'), [0, 1]); // out 256: (255*2 + 3) - 512 = 1
  assert.deepEqual(tfPads(7, 3, 2, 'same'), [1, 1]); // out 4: (3*2 + 3) - 7 = 2
  assert.deepEqual(tfPads(2, 3, 2, 'same'), [0, 1]);
  assert.deepEqual(tfPads(56, 3, 1, 'same'), [1, 1]);
  assert.deepEqual(tfPads(56, 1, 1, 'same'), [0, 0]);
  assert.deepEqual(tfPads(56, 3, 2, 'valid'), [0, 0]);
});

test('filters move from HWIO to OIHW', () => {
  // kh=1, kw=2, ci=2, co=3: value = 100*y + 10*x ... encode (x, i, o) as x*100 + i*10 + o
  const hwio = new Float32Array(12);
  for (let x = 0; x < 2; x++) for (let i = 0; i < 2; i++) for (let o = 0; o < 3; o++) hwio[(x * 2 + i) * 3 + o] = x * 100 + i * 10 + o;
  const oihw = hwioToOihw(hwio, [1, 2, 2, 3]);
  // OIHW index ((o*2 + i)*1 + 0)*2 + x
  assert.deepEqual([...oihw], [0, 100, 10, 110, 1, 101, 11, 111, 2, 102, 12, 112]);
  // depthwise [kh=1, kw=2, c=2, 1] → [c, 1, 1, 2]
  assert.deepEqual([...depthwiseToOihw(Float32Array.from([1, 2, 3, 4]), [1, 2, 2, 1])], [1, 3, 2, 4]);
});
