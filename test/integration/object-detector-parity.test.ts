/**
 * Parity of the converted object detector (object_centernet.onnx) with the reference: the same
 * TF.js graph model (@vladmandic/human models/centernet.json) run by tfjs 4.22's graph executor on
 * the CPU backend, on real photos. The ONNX graph reduces the class heatmap to one score per class;
 * the reference's `tower_0/keypoints` heatmap is reduced the same way here.
 *
 * The source graph is frozen at 512×512 (its Placeholder and the three upsampling sizes). For the
 * 192 input the check re-freezes the reference at 192: the Placeholder's shape and those three
 * int32 size constants, nothing else, so tfjs runs the same weights at the size facepipe uses.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import sharp from 'sharp';
import { createSession, loadModelManifest, OBJECT_CLASS_COUNT } from '@facepipe/vision';
import { dataPath, missingData } from '../helpers/data.js';

const require = createRequire(import.meta.url);

interface GraphTensor {
  data(): Promise<Float32Array>;
  dispose(): void;
}
interface Tfjs {
  setBackend(name: string): Promise<boolean>;
  ready(): Promise<void>;
  version: Record<string, string>;
  tensor4d(data: Float32Array, shape: [number, number, number, number]): GraphTensor;
  io: { fromMemory(artifacts: unknown): unknown };
  loadGraphModel(handler: unknown): Promise<{ execute(x: GraphTensor, output: string): GraphTensor }>;
}

const PHOTOS = [
  'recognition/face_recognition_examples/knn_test/obama1.jpg',
  'hard_cases/scikit-image/astronaut.png',
  'detection/dlib_pascal_training/2008_001322.jpg',
];
/** Upsampling size constants at 512 → their stride (the size at input S is S / stride). */
const RESIZE_SIZES: Record<string, number> = {
  'tower_0/CenternetHead/c5_upsample/up_sampling2d/mul': 16,
  'tower_0/CenternetHead/c4_upsample/up_sampling2d_1/mul': 8,
  'tower_0/CenternetHead/c3_upsample/up_sampling2d_2/mul': 4,
};

interface WeightSpec {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: { dtype: string };
}
interface GraphJson {
  modelTopology: { node: { name: string; op: string; attr?: { shape?: { shape: { dim: { size: string }[] } } } }[] };
  weightsManifest: { paths: string[]; weights: WeightSpec[] }[];
}

async function reference(tf: Tfjs, size: number) {
  const jsonPath = join(dirname(require.resolve('@vladmandic/human')), '..', 'models', 'centernet.json');
  const graph = JSON.parse(await readFile(jsonPath, 'utf8')) as GraphJson;
  const [group] = graph.weightsManifest;
  assert.ok(group && group.paths.length === 1);
  const bin = Buffer.from(await readFile(join(dirname(jsonPath), group.paths[0]!)));
  let offset = 0;
  for (const w of group.weights) {
    const count = w.shape.reduce((a, b) => a * b, 1);
    const stride = RESIZE_SIZES[w.name];
    if (stride) {
      assert.equal(bin.readInt32LE(offset), 512 / stride, `${w.name} is the 512 size`);
      bin.writeInt32LE(size / stride, offset);
      bin.writeInt32LE(size / stride, offset + 4);
    }
    offset += count * ((w.quantization?.dtype ?? w.dtype) === 'float16' ? 2 : 4);
  }
  assert.equal(offset, bin.byteLength);
  const placeholder = graph.modelTopology.node.find((n) => n.op === 'Placeholder');
  assert.ok(placeholder?.attr?.shape);
  placeholder.attr.shape.shape.dim = [1, size, size, 3].map((d) => ({ size: String(d) }));
  const weightData = bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength);
  return tf.loadGraphModel(tf.io.fromMemory({ modelTopology: graph.modelTopology, weightSpecs: group.weights, weightData }));
}

const skip = missingData(...PHOTOS);

test('the converted object detector matches human/tfjs on real photos, at 512 and at 192', { skip }, async () => {
  const tf = require('@tensorflow/tfjs') as Tfjs;
  await tf.setBackend('cpu');
  await tf.ready();
  const manifest = await loadModelManifest();
  const session = await createSession('object_centernet', { manifest });
  let worst = 0;
  let runs = 0;
  try {
    // 512 (the frozen size, ~13 s a photo in tfjs) on one photo; 192 (facepipe's crops) on all.
    for (const [size, photos] of [[512, PHOTOS.slice(0, 1)], [192, PHOTOS]] as const) {
      const model = await reference(tf, size);
      for (const photo of photos) {
        const raw = await sharp(dataPath(photo)).removeAlpha().toColourspace('srgb').resize(size, size, { fit: 'fill' }).raw().toBuffer();
        const input = Float32Array.from(raw);
        const x = tf.tensor4d(input, [1, size, size, 3]);
        const heatmap = model.execute(x, 'tower_0/keypoints');
        const ref = await heatmap.data();
        x.dispose();
        heatmap.dispose();
        const best = new Float32Array(OBJECT_CLASS_COUNT);
        for (let i = 0; i < ref.length; i++) best[i % OBJECT_CLASS_COUNT] = Math.max(best[i % OBJECT_CLASS_COUNT]!, ref[i]!);
        const ours = (await session.run(input, 1, size, size)).class_scores!;
        assert.deepEqual(ours.dims, [1, OBJECT_CLASS_COUNT]);
        for (let c = 0; c < OBJECT_CLASS_COUNT; c++) worst = Math.max(worst, Math.abs(ours.data[c]! - best[c]!));
        runs++;
        if (photo.endsWith('astronaut.png')) assert.ok(ours.data[0]! > 0.3, `a person is seen in the astronaut photo (${ours.data[0]})`);
      }
    }
  } finally {
    await session.release();
  }
  console.log(`[parity] object_centernet class scores max|Δ| ${worst.toExponential(2)} (${runs} runs: 1 at 512, ${PHOTOS.length} at 192; human models/centernet.json on tfjs ${tf.version.tfjs} cpu)`);
  assert.ok(worst <= 1e-4, `class scores differ by ${worst}`);
});
