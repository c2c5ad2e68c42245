/**
 * SSD MobileNetV1 face detector, as face-api's ssdMobilenetv1 (mobileNetV1.ts, predictionLayer.ts,
 * boxPredictionLayer.ts). The graph stops before outputLayer: it returns the raw box encodings and
 * class logits; anchor decoding and the sigmoid are {@link decodeSsd}'s job, and the anchors
 * (`Output/extra_dim`, those of a 512×512 input) are returned for the manifest's extras. The input
 * size is dynamic (H = W, a multiple of 32): 'same' padding is left to the runtime
 * (`auto_pad`), and the anchors of other sizes come from {@link ssdAnchors}.
 */
import { GraphBuilder, attr } from '../graph-builder.js';
import { clip, conv, depthwiseToOihw, hwioToOihw, imageInput, toNhwc, type Fmap } from '../layers.js';
import { OnnxDataType, type GraphSpec } from '../onnx-proto.js';
import { getWeight, type TfjsWeight } from '../tfjs-weights.js';
import { MODEL_CONTRACTS, SSD_ANCHOR_COUNT } from '../../models/contract.js';
import { SSD_TRAINED_INPUT } from '../../models/ssd-anchors.js';

/** mobileNetV1.ts: batch-norm epsilon. */
const BN_EPSILON = 0.0010000000474974513;

export function buildSsdMobilenetv1(weights: Map<string, TfjsWeight>): { graph: GraphSpec; anchors: Float32Array } {
  const contract = MODEL_CONTRACTS.ssd_mobilenetv1;
  const g = new GraphBuilder('ssd_mobilenetv1');

  /** pointwiseConvLayer: conv2d(same) + convolution_bn_offset, clipByValue(0, 6). */
  const pointwise = (x: Fmap, prefix: string, stride: number): Fmap => {
    const filters = weights.get(`${prefix}/weights`);
    if (!filters) throw new Error(`weight ${prefix}/weights is missing`);
    const [kh, kw, ci, co] = filters.shape as [number, number, number, number];
    if (ci !== x.channels) throw new Error(`${prefix}: ${ci} input channels, feature has ${x.channels}`);
    const out = conv(g, x, {
      weight: hwioToOihw(getWeight(weights, `${prefix}/weights`), filters.shape),
      kernel: [kh, kw],
      outChannels: co,
      bias: getWeight(weights, `${prefix}/convolution_bn_offset`, [co]),
      stride,
      padding: 'same',
      dynamicSame: true,
      hint: prefix,
    });
    return clip(g, out, 0, 6, `${prefix}/relu6`);
  };

  /** depthwiseConvLayer: depthwiseConv2d(same) + batchNorm (folded into the weights), clip 0..6. */
  const depthwise = (x: Fmap, prefix: string, stride: number): Fmap => {
    const c = x.channels;
    const filters = getWeight(weights, `${prefix}/depthwise_weights`, [3, 3, c, 1]);
    const gamma = getWeight(weights, `${prefix}/BatchNorm/gamma`, [c]);
    const beta = getWeight(weights, `${prefix}/BatchNorm/beta`, [c]);
    const mean = getWeight(weights, `${prefix}/BatchNorm/moving_mean`, [c]);
    const variance = getWeight(weights, `${prefix}/BatchNorm/moving_variance`, [c]);
    const w = depthwiseToOihw(filters, [3, 3, c, 1]);
    const bias = new Float32Array(c);
    for (let ch = 0; ch < c; ch++) {
      const s = gamma[ch]! / Math.sqrt(variance[ch]! + BN_EPSILON);
      for (let k = 0; k < 9; k++) w[ch * 9 + k] = w[ch * 9 + k]! * s;
      bias[ch] = beta[ch]! - mean[ch]! * s;
    }
    const out = conv(g, x, { weight: w, kernel: [3, 3], outChannels: c, bias, stride, padding: 'same', dynamicSame: true, group: c, hint: prefix });
    return clip(g, out, 0, 6, `${prefix}/relu6`);
  };

  /** boxPredictionLayer: two 1×1 convs with bias; NHWC-flattened to [N, -1, 4] and [N, -1, 3]. */
  const boxPredictor = (x: Fmap, idx: number): { boxes: string; classes: string } => {
    const head = (kind: 'BoxEncodingPredictor' | 'ClassPredictor', perAnchor: number): string => {
      const prefix = `Prediction/BoxPredictor_${idx}/${kind}`;
      const filters = weights.get(`${prefix}/weights`);
      if (!filters) throw new Error(`weight ${prefix}/weights is missing`);
      const co = filters.shape[3]!;
      const out = conv(g, x, {
        weight: hwioToOihw(getWeight(weights, `${prefix}/weights`, [1, 1, x.channels, co]), filters.shape),
        kernel: [1, 1],
        outChannels: co,
        bias: getWeight(weights, `${prefix}/biases`, [co]),
        stride: 1,
        padding: 'same',
        dynamicSame: true,
        hint: prefix,
      });
      const nhwc = toNhwc(g, out, `${prefix}/nhwc`);
      return g.op('Reshape', [nhwc, g.int64s(`${prefix}/shape`, [0, -1, perAnchor])], {}, `${prefix}/flat`);
    };
    return { boxes: head('BoxEncodingPredictor', 4), classes: head('ClassPredictor', 3) };
  };

  const n = contract.normalisation;
  let x = imageInput(g, contract.input.shape, n, { height: SSD_TRAINED_INPUT, width: SSD_TRAINED_INPUT });

  // mobileNetV1
  x = pointwise(x, 'MobilenetV1/Conv2d_0_pointwise', 2);
  let conv11: Fmap | undefined;
  for (let layer = 1; layer <= 13; layer++) {
    const stride = [2, 4, 6, 12].includes(layer) ? 2 : 1;
    x = depthwise(x, `MobilenetV1/Conv2d_${layer}_depthwise`, stride);
    x = pointwise(x, `MobilenetV1/Conv2d_${layer}_pointwise`, 1);
    if (layer === 11) conv11 = x;
  }
  if (!conv11) throw new Error('mobileNetV1: no conv11 output');

  // predictionLayer
  const p: Fmap[] = [];
  let y = x;
  for (let i = 0; i < 8; i++) {
    y = pointwise(y, `Prediction/Conv2d_${i}_pointwise`, i % 2 === 1 ? 2 : 1);
    p.push(y);
  }
  const heads = [conv11, x, p[1]!, p[3]!, p[5]!, p[7]!].map((f, idx) => boxPredictor(f, idx));
  const boxes = g.op('Concat', heads.map((h) => h.boxes), { axis: attr.int(1) }, 'box_predictions');
  const classes = g.op('Concat', heads.map((h) => h.classes), { axis: attr.int(1) }, 'class_predictions');

  const boxOut = contract.outputs[0]!;
  const classOut = contract.outputs[1]!;
  g.output(boxes, boxOut.name, OnnxDataType.FLOAT, boxOut.shape, boxOut.meaning);
  g.output(classes, classOut.name, OnnxDataType.FLOAT, classOut.shape, classOut.meaning);

  const anchors = weights.get('Output/extra_dim');
  if (!anchors || !(anchors.data instanceof Float32Array) || anchors.data.length !== SSD_ANCHOR_COUNT * 4) {
    throw new Error(`weight Output/extra_dim: expected float32 [1, ${SSD_ANCHOR_COUNT}, 4]`);
  }
  return {
    graph: g.build('SSD MobileNetV1 face detector (face-api ssd_mobilenetv1_model), raw predictor outputs'),
    anchors: anchors.data,
  };
}
