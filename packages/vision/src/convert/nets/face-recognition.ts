/**
 * Face recognition ResNet (dlib's 29-layer ResNet-34 variant), as face-api's FaceRecognitionNet.
 * Each conv's `scale` layer (x * weights + biases) is folded into the conv weights and bias.
 * residualDown keeps face-api's quirks: the shortcut is a 2×2/2 average pool, zero-padded in
 * channels, and when the strided conv comes out one pixel smaller than the pool, the conv branch
 * gets a zero row at the bottom and a zero column at the right.
 */
import { GraphBuilder, attr } from '../graph-builder.js';
import { add, avgPoolValid, conv, hwioToOihw, imageInput, maxPool, relu, zeroPad, type Fmap } from '../layers.js';
import { OnnxDataType, type GraphSpec } from '../onnx-proto.js';
import { getWeight, type TfjsWeight } from '../tfjs-weights.js';
import { MODEL_CONTRACTS } from '../../models/contract.js';

export function buildFaceRecognition(weights: Map<string, TfjsWeight>): { graph: GraphSpec } {
  const contract = MODEL_CONTRACTS.face_recognition;
  const g = new GraphBuilder('face_recognition');

  /** faceRecognitionNet/convLayer.ts: conv2d + bias, scale, optional relu. */
  const convLayer = (x: Fmap, prefix: string, stride: number, withRelu: boolean, padding: 'same' | 'valid'): Fmap => {
    const filters = weights.get(`${prefix}/conv/filters`);
    if (!filters) throw new Error(`weight ${prefix}/conv/filters is missing`);
    const [kh, kw, ci, co] = filters.shape as [number, number, number, number];
    if (ci !== x.channels) throw new Error(`${prefix}: ${ci} input channels, feature has ${x.channels}`);
    const w = hwioToOihw(getWeight(weights, `${prefix}/conv/filters`), filters.shape);
    const b = getWeight(weights, `${prefix}/conv/bias`, [co]);
    const s = getWeight(weights, `${prefix}/scale/weights`, [co]);
    const sb = getWeight(weights, `${prefix}/scale/biases`, [co]);
    const per = ci * kh * kw;
    const bias = new Float32Array(co);
    for (let o = 0; o < co; o++) {
      for (let k = 0; k < per; k++) w[o * per + k] = w[o * per + k]! * s[o]!;
      bias[o] = b[o]! * s[o]! + sb[o]!;
    }
    const out = conv(g, x, { weight: w, kernel: [kh, kw], outChannels: co, bias, stride, padding, hint: prefix });
    return withRelu ? relu(g, out, `${prefix}/relu`) : out;
  };

  const residual = (x: Fmap, prefix: string): Fmap => {
    const a = convLayer(x, `${prefix}/conv1`, 1, true, 'same');
    const b = convLayer(a, `${prefix}/conv2`, 1, false, 'same');
    return relu(g, add(g, b, x, `${prefix}/add`), `${prefix}/relu`);
  };

  const residualDown = (x: Fmap, prefix: string): Fmap => {
    const a = convLayer(x, `${prefix}/conv1`, 2, true, 'valid');
    let out = convLayer(a, `${prefix}/conv2`, 1, false, 'same');
    let pooled = avgPoolValid(g, x, 2, 2, `${prefix}/pool`);
    if (pooled.height !== out.height || pooled.width !== out.width) {
      if (pooled.height !== out.height + 1 || pooled.width !== out.width + 1) {
        throw new Error(`${prefix}: pooled ${pooled.height}×${pooled.width} vs conv ${out.height}×${out.width}`);
      }
      out = zeroPad(g, out, [0, 0, 0], [0, 1, 1], `${prefix}/pad_hw`);
    }
    if (pooled.channels !== out.channels) {
      pooled = zeroPad(g, pooled, [0, 0, 0], [out.channels - pooled.channels, 0, 0], `${prefix}/pad_c`);
    }
    return relu(g, add(g, pooled, out, `${prefix}/add`), `${prefix}/relu`);
  };

  let x = imageInput(g, contract.input.shape, contract.normalisation, { height: 150, width: 150 });
  x = convLayer(x, 'conv32_down', 2, true, 'valid');
  x = maxPool(g, x, 3, 2, [0, 0, 0, 0], 'pool');
  for (const block of ['conv32_1', 'conv32_2', 'conv32_3']) x = residual(x, block);
  x = residualDown(x, 'conv64_down');
  for (const block of ['conv64_1', 'conv64_2', 'conv64_3']) x = residual(x, block);
  x = residualDown(x, 'conv128_down');
  for (const block of ['conv128_1', 'conv128_2']) x = residual(x, block);
  x = residualDown(x, 'conv256_down');
  for (const block of ['conv256_1', 'conv256_2']) x = residual(x, block);
  x = residualDown(x, 'conv256_down_out');

  const avg = g.op('GlobalAveragePool', [x.value], {}, 'global_avg');
  const flat = g.op('Flatten', [avg], { axis: attr.int(1) }, 'flatten');
  const fc = g.op('MatMul', [flat, g.floats('fc', [256, 128], getWeight(weights, 'fc', [256, 128]))], {}, 'fc');
  const out = contract.outputs[0]!;
  g.output(fc, out.name, OnnxDataType.FLOAT, ['N', 128], out.meaning);
  return { graph: g.build('Face recognition ResNet (face-api face_recognition_model), 128-d descriptor') };
}
