/**
 * Tiny face detector, as face-api's TinyYolov2Base.runMobilenet with the TinyFaceDetector config
 * (separable convs, first layer a plain conv, filter sizes 3-16-32-64-128-256-512, no conv6/conv7).
 * Input H and W are dynamic multiples of 32; the output grid is NHWC [N, H/32, W/32, 25].
 *
 * Padding: conv0 is 'valid' (H → H-2); each separable conv pads 1 explicitly; TF's 2×2 'same'
 * max pools need at most one extra row/column at the end, and for every size reached from a
 * multiple of 32 that is exactly pads [0, 0, 1, 1] (the padded cell is never the only one in a
 * window, so the max ignores it) — so the same static pads serve every input size.
 */
import { GraphBuilder, attr } from '../graph-builder.js';
import { conv, depthwiseToOihw, hwioToOihw, imageInput, maxPool, toNhwc, unary, type Fmap } from '../layers.js';
import { OnnxDataType, type GraphSpec } from '../onnx-proto.js';
import { getWeight, type TfjsWeight } from '../tfjs-weights.js';
import { MODEL_CONTRACTS, TINY_FACE_DETECTOR_ANCHORS, TINY_FACE_DETECTOR_BOX_ENCODING_SIZE } from '../../models/contract.js';

/** tinyYolov2/leaky.ts: relu(x - 0.1x) + 0.1x, i.e. LeakyRelu with alpha = float32(0.1). */
const LEAKY_ALPHA = 0.10000000149011612;

export function buildTinyFaceDetector(weights: Map<string, TfjsWeight>): { graph: GraphSpec } {
  const contract = MODEL_CONTRACTS.tiny_face_detector;
  const g = new GraphBuilder('tiny_face_detector');
  const leaky = (x: Fmap, hint: string): Fmap => unary(g, x, 'LeakyRelu', hint, { alpha: attr.float(LEAKY_ALPHA) });

  /** tinyYolov2/depthwiseSeparableConv: pad 1, separable conv 'valid', + bias, leaky. */
  const separable = (x: Fmap, prefix: string, co: number): Fmap => {
    const c = x.channels;
    const dw = conv(g, x, {
      weight: depthwiseToOihw(getWeight(weights, `${prefix}/depthwise_filter`, [3, 3, c, 1]), [3, 3, c, 1]),
      kernel: [3, 3],
      outChannels: c,
      stride: 1,
      padding: [1, 1, 1, 1],
      group: c,
      hint: `${prefix}/depthwise`,
    });
    const pw = conv(g, dw, {
      weight: hwioToOihw(getWeight(weights, `${prefix}/pointwise_filter`, [1, 1, c, co]), [1, 1, c, co]),
      kernel: [1, 1],
      outChannels: co,
      bias: getWeight(weights, `${prefix}/bias`, [co]),
      stride: 1,
      padding: 'valid',
      hint: `${prefix}/pointwise`,
    });
    return leaky(pw, `${prefix}/leaky`);
  };

  const size = contract.defaultInputSize ?? 416;
  let x = imageInput(g, contract.input.shape, contract.normalisation, { height: size, width: size });
  x = conv(g, x, {
    weight: hwioToOihw(getWeight(weights, 'conv0/filters', [3, 3, 3, 16]), [3, 3, 3, 16]),
    kernel: [3, 3],
    outChannels: 16,
    bias: getWeight(weights, 'conv0/bias', [16]),
    stride: 1,
    padding: 'valid',
    hint: 'conv0',
  });
  x = leaky(x, 'conv0/leaky');
  const filters = [32, 64, 128, 256, 512];
  for (const [i, co] of filters.entries()) {
    x = maxPool(g, x, 2, 2, [0, 0, 1, 1], `pool${i}`);
    x = separable(x, `conv${i + 1}`, co);
  }
  x = maxPool(g, x, 2, 1, [0, 0, 1, 1], 'pool5');
  const channels = TINY_FACE_DETECTOR_ANCHORS.length * TINY_FACE_DETECTOR_BOX_ENCODING_SIZE;
  x = conv(g, x, {
    weight: hwioToOihw(getWeight(weights, 'conv8/filters', [1, 1, 512, channels]), [1, 1, 512, channels]),
    kernel: [1, 1],
    outChannels: channels,
    bias: getWeight(weights, 'conv8/bias', [channels]),
    stride: 1,
    padding: 'valid',
    hint: 'conv8',
  });
  if (x.height !== size / 32) throw new Error(`tiny_face_detector: grid ${x.height} for input ${size}`);
  const out = contract.outputs[0]!;
  g.output(toNhwc(g, x, 'grid_nhwc'), out.name, OnnxDataType.FLOAT, ['N', 'gridH', 'gridW', channels], out.meaning);
  return { graph: g.build('Tiny face detector (face-api tiny_face_detector_model), raw YOLO grid') };
}
