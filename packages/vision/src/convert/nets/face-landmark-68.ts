/**
 * 68-point landmark net, as face-api's FaceLandmark68Net: FaceFeatureExtractor (four denseBlock4,
 * 7×7/2 average pool) and the fully connected classifier. The graph returns the raw 136 outputs
 * (relative to the 112×112 input); postProcess/shift are {@link landmarksFromOutput}'s job.
 */
import { GraphBuilder, attr } from '../graph-builder.js';
import { add, avgPoolValid, conv, depthwiseToOihw, hwioToOihw, imageInput, relu, type Fmap } from '../layers.js';
import { OnnxDataType, type GraphSpec } from '../onnx-proto.js';
import { getWeight, type TfjsWeight } from '../tfjs-weights.js';
import { MODEL_CONTRACTS } from '../../models/contract.js';

export function buildFaceLandmark68(weights: Map<string, TfjsWeight>): { graph: GraphSpec } {
  const contract = MODEL_CONTRACTS.face_landmark_68;
  const g = new GraphBuilder('face_landmark_68');

  /** common/depthwiseSeparableConv: separableConv2d(same, stride) + bias, no activation. */
  const separable = (x: Fmap, prefix: string, co: number, stride: number): Fmap => {
    const c = x.channels;
    const dw = conv(g, x, {
      weight: depthwiseToOihw(getWeight(weights, `${prefix}/depthwise_filter`, [3, 3, c, 1]), [3, 3, c, 1]),
      kernel: [3, 3],
      outChannels: c,
      stride,
      padding: 'same',
      group: c,
      hint: `${prefix}/depthwise`,
    });
    return conv(g, dw, {
      weight: hwioToOihw(getWeight(weights, `${prefix}/pointwise_filter`, [1, 1, c, co]), [1, 1, c, co]),
      kernel: [1, 1],
      outChannels: co,
      bias: getWeight(weights, `${prefix}/bias`, [co]),
      stride: 1,
      padding: 'same',
      hint: `${prefix}/pointwise`,
    });
  };

  /** faceFeatureExtractor/denseBlock.ts denseBlock4 (isScaleDown = true). */
  const denseBlock4 = (x: Fmap, prefix: string, co: number, isFirstLayer: boolean): Fmap => {
    const first = isFirstLayer
      ? conv(g, x, {
          weight: hwioToOihw(getWeight(weights, `${prefix}/conv0/filters`, [3, 3, x.channels, co]), [3, 3, x.channels, co]),
          kernel: [3, 3],
          outChannels: co,
          bias: getWeight(weights, `${prefix}/conv0/bias`, [co]),
          stride: 2,
          padding: 'same',
          hint: `${prefix}/conv0`,
        })
      : separable(x, `${prefix}/conv0`, co, 2);
    const out1 = relu(g, first, `${prefix}/out1`);
    const out2 = separable(out1, `${prefix}/conv1`, co, 1);
    const in3 = relu(g, add(g, out1, out2, `${prefix}/sum3`), `${prefix}/in3`);
    const out3 = separable(in3, `${prefix}/conv2`, co, 1);
    const in4 = relu(g, add(g, out1, add(g, out2, out3, `${prefix}/sum23`), `${prefix}/sum4`), `${prefix}/in4`);
    const out4 = separable(in4, `${prefix}/conv3`, co, 1);
    const sum = add(g, out1, add(g, out2, add(g, out3, out4, `${prefix}/sum34`), `${prefix}/sum234`), `${prefix}/sum`);
    return relu(g, sum, `${prefix}/out`);
  };

  let x = imageInput(g, contract.input.shape, contract.normalisation, { height: 112, width: 112 });
  x = denseBlock4(x, 'dense0', 32, true);
  x = denseBlock4(x, 'dense1', 64, false);
  x = denseBlock4(x, 'dense2', 128, false);
  x = denseBlock4(x, 'dense3', 256, false);
  x = avgPoolValid(g, x, 7, 2, 'avg_pool');
  if (x.height !== 1 || x.width !== 1) throw new Error(`face_landmark_68: pooled to ${x.height}×${x.width}`);
  const flat = g.op('Flatten', [x.value], { axis: attr.int(1) }, 'flatten');
  const fc = g.op(
    'Gemm',
    [flat, g.floats('fc/weights', [256, 136], getWeight(weights, 'fc/weights', [256, 136])), g.floats('fc/bias', [136], getWeight(weights, 'fc/bias', [136]))],
    {},
    'fc',
  );
  const out = contract.outputs[0]!;
  g.output(fc, out.name, OnnxDataType.FLOAT, ['N', 136], out.meaning);
  return { graph: g.build('68-point face landmarks (face-api face_landmark_68_model), raw outputs') };
}
