/**
 * MB3-CenterNet, the COCO object detector that ships in @vladmandic/human (`models/centernet.json`,
 * a TF.js graph model), translated node by node from its TensorFlow GraphDef. facepipe uses it to
 * tell a human head from an animal's: only the class heatmap is kept, reduced to one score per
 * class (`class_scores [N, 80]`, the highest heatmap peak of each COCO class); the graph's own
 * box decoding (TopK, gathers) is cut off.
 *
 * The translation covers the ops this graph uses up to `tower_0/keypoints` and fails loudly on any
 * other. The graph is NHWC; the ONNX graph is NCHW from one transpose of the input, so channel
 * axes of Mean and ConcatV2 are remapped. TF 'SAME' becomes `auto_pad: SAME_UPPER` and the
 * ×2 bilinear upsamplings become scale-2 `Resize` (align_corners and half_pixel_centers off is
 * ONNX's 'asymmetric' mode), so H and W are dynamic multiples of 32 while the source graph was
 * frozen at 512.
 */
import { GraphBuilder, attr } from '../graph-builder.js';
import { clip, conv, depthwiseToOihw, hwioToOihw, relu, unary, type Fmap } from '../layers.js';
import { OnnxDataType, type GraphSpec } from '../onnx-proto.js';
import type { TfAttr, TfGraphNode, TfjsGraphModel, TfjsWeight } from '../tfjs-weights.js';
import { MODEL_CONTRACTS, OBJECT_CLASS_COUNT } from '../../models/contract.js';

/** The heatmap node: sigmoid of the class logits, NHWC [1, H/4, W/4, 80]. */
export const CENTERNET_HEATMAP_NODE = 'tower_0/keypoints';
/** The input size the source graph was frozen at (its Placeholder and resize sizes). */
const FROZEN_SIZE = 512;

/** GraphDef JSON writes string attributes as base64 bytes. */
const fromBase64 = (s: string): string => Buffer.from(s, 'base64').toString('utf8');
const text = (a: TfAttr | undefined): string => (a?.s ? fromBase64(a.s) : '');

function strides(node: TfGraphNode): number {
  const s = node.attr?.strides?.list?.i?.map(Number) ?? [1, 1, 1, 1];
  if (s[1] !== s[2]) throw new Error(`${node.name}: unequal strides ${s.join(',')}`);
  return s[1]!;
}

export function buildObjectCenternet(model: Pick<TfjsGraphModel, 'nodes' | 'weights'>): { graph: GraphSpec } {
  const contract = MODEL_CONTRACTS.object_centernet;
  const g = new GraphBuilder('object_centernet');
  const { nodes, weights } = model;
  /** Translated feature maps (NCHW) by TF node name. */
  const maps = new Map<string, Fmap>();

  const constant = (name: string): TfjsWeight => {
    const w = weights.get(name);
    if (!w) throw new Error(`constant ${name} is not in the weights`);
    return w;
  };
  const isConstant = (name: string): boolean => nodes.get(name)?.op === 'Const';

  const convNode = (node: TfGraphNode, x: Fmap, depthwise: boolean): Fmap => {
    const inputs = node.input ?? [];
    const w = constant(inputs[1]!);
    const [kh, kw, ci, co] = w.shape as [number, number, number, number];
    const fused = node.attr?.fused_ops?.list?.s?.map(fromBase64) ?? [];
    const hasBias = fused[0] === 'BiasAdd';
    if (fused.length > 0 && !hasBias) throw new Error(`${node.name}: fused ops ${fused.join(',')} are not supported`);
    const activation = fused[1];
    if (fused.length > 2 || (activation !== undefined && activation !== 'Relu' && activation !== 'Relu6')) {
      throw new Error(`${node.name}: fused ops ${fused.join(',')} are not supported`);
    }
    const padding = text(node.attr?.padding);
    if (padding !== 'SAME' && padding !== 'VALID') throw new Error(`${node.name}: padding ${padding} is not supported`);
    if (node.attr?.dilations?.list?.i?.some((d) => d !== '1')) throw new Error(`${node.name}: dilated convolution is not supported`);
    const data = w.data as Float32Array;
    const outChannels = depthwise ? ci * co : co;
    let y = conv(g, x, {
      weight: depthwise ? depthwiseToOihw(data, w.shape) : hwioToOihw(data, w.shape),
      kernel: [kh, kw],
      outChannels,
      ...(hasBias ? { bias: constant(inputs[2]!).data as Float32Array } : {}),
      stride: strides(node),
      padding: padding === 'SAME' ? 'same' : 'valid',
      dynamicSame: true,
      ...(depthwise ? { group: ci } : {}),
      hint: node.name,
    });
    if (activation === 'Relu') y = relu(g, y, `${node.name}/relu`);
    if (activation === 'Relu6') y = clip(g, y, 0, 6, `${node.name}/relu6`);
    return y;
  };

  /** A binary op's operand: a translated map, or a scalar constant. */
  const operand = (name: string, node: TfGraphNode): string => {
    if (!isConstant(name)) return translate(name).value;
    const w = constant(name);
    if (w.shape.length !== 0 || w.dtype !== 'float32') throw new Error(`${node.name}: only scalar float constants are supported, ${name} is [${w.shape.join(',')}]`);
    return g.floats(name, [], w.data as Float32Array);
  };

  const translate = (ref: string): Fmap => {
    const name = ref.split(':')[0]!;
    const done = maps.get(name);
    if (done) return done;
    const node = nodes.get(name);
    if (!node) throw new Error(`node ${name} is not in the graph`);
    const inputs = node.input ?? [];
    const first = (): Fmap => {
      const input = inputs.find((i) => !isConstant(i));
      if (!input) throw new Error(`${name}: no tensor input`);
      return translate(input);
    };
    let out: Fmap;
    switch (node.op) {
      case 'Placeholder': {
        const image = g.input(contract.input.name, OnnxDataType.FLOAT, contract.input.shape);
        out = { value: g.op('Transpose', [image], { perm: attr.ints([0, 3, 1, 2]) }, 'nchw'), channels: 3, height: FROZEN_SIZE, width: FROZEN_SIZE };
        break;
      }
      case '_FusedConv2D':
      case 'Conv2D':
        out = convNode(node, translate(inputs[0]!), false);
        break;
      case 'FusedDepthwiseConv2dNative':
      case 'DepthwiseConv2dNative':
        out = convNode(node, translate(inputs[0]!), true);
        break;
      case 'Add':
      case 'AddV2':
      case 'Mul':
      case 'Sub': {
        // Squeeze-and-excite multiplies a map by a 1×1 one: the result has the larger map's size.
        const tensors = inputs.filter((i) => !isConstant(i)).map((i) => translate(i));
        if (tensors.length === 0) throw new Error(`${name}: no tensor input`);
        const map = tensors.reduce((a, b) => (b.height > a.height ? b : a));
        const op = node.op === 'AddV2' ? 'Add' : node.op;
        out = { ...map, value: g.op(op, [operand(inputs[0]!, node), operand(inputs[1]!, node)], {}, name) };
        break;
      }
      case 'Relu':
      case 'Sigmoid': {
        const x = first();
        out = unary(g, x, node.op, name);
        break;
      }
      case 'Relu6': {
        const x = first();
        out = clip(g, x, 0, 6, name);
        break;
      }
      case 'Identity':
        out = first();
        break;
      case 'Mean': {
        const axes = [...(constant(inputs[1]!).data as Int32Array)];
        if (axes.join(',') !== '1,2' || node.attr?.keep_dims?.b !== true) throw new Error(`${name}: only a spatial mean with keep_dims is supported`);
        const x = first();
        out = { value: g.op('ReduceMean', [x.value], { axes: attr.ints([2, 3]), keepdims: attr.int(1) }, name), channels: x.channels, height: 1, width: 1 };
        break;
      }
      case 'ResizeBilinear': {
        if (node.attr?.align_corners?.b || node.attr?.half_pixel_centers?.b) throw new Error(`${name}: only align_corners = half_pixel_centers = false is supported`);
        const x = first();
        const size = [...(constant(inputs[1]!).data as Int32Array)];
        if (size[0] !== x.height * 2 || size[1] !== x.width * 2) throw new Error(`${name}: resize ${x.height}×${x.width} → ${size.join('×')} is not a ×2 upsampling`);
        const scales = g.floats(`${name}/scales`, [4], [1, 1, 2, 2]);
        const value = g.op('Resize', [x.value, '', scales], { mode: attr.string('linear'), coordinate_transformation_mode: attr.string('asymmetric') }, name);
        out = { value, channels: x.channels, height: size[0], width: size[1] };
        break;
      }
      case 'ConcatV2': {
        const parts = inputs.slice(0, -1).map((i) => translate(i));
        const axis = (constant(inputs[inputs.length - 1]!).data as Int32Array)[0];
        if (axis !== 3 && axis !== -1) throw new Error(`${name}: only channel concatenation is supported`);
        if (parts.some((p) => p.height !== parts[0]!.height || p.width !== parts[0]!.width)) throw new Error(`${name}: concatenated maps differ in size`);
        const value = g.op('Concat', parts.map((p) => p.value), { axis: attr.int(1) }, name);
        out = { value, channels: parts.reduce((n, p) => n + p.channels, 0), height: parts[0]!.height, width: parts[0]!.width };
        break;
      }
      default:
        throw new Error(`${name}: TF op ${node.op} is not supported by the CenterNet translation`);
    }
    maps.set(name, out);
    return out;
  };

  // The graph is about 100 maps deep: an explicit post-order walk keeps the recursion above shallow.
  const order: string[] = [];
  const seen = new Set<string>();
  const stack: [string, boolean][] = [[CENTERNET_HEATMAP_NODE, false]];
  while (stack.length > 0) {
    const [name, expanded] = stack.pop()!;
    if (expanded) {
      order.push(name);
      continue;
    }
    if (seen.has(name)) continue;
    seen.add(name);
    stack.push([name, true]);
    for (const i of nodes.get(name)?.input ?? []) {
      const dep = i.split(':')[0]!;
      if (!seen.has(dep) && !isConstant(dep)) stack.push([dep, false]);
    }
  }
  for (const name of order) translate(name);

  const heatmap = maps.get(CENTERNET_HEATMAP_NODE)!;
  if (heatmap.channels !== OBJECT_CLASS_COUNT || heatmap.height !== FROZEN_SIZE / 4) {
    throw new Error(`object_centernet: heatmap has ${heatmap.channels} classes at ${heatmap.height}² for input ${FROZEN_SIZE}`);
  }
  const scores = g.op('ReduceMax', [heatmap.value], { axes: attr.ints([2, 3]), keepdims: attr.int(0) }, 'class_max');
  const out = contract.outputs[0]!;
  g.output(scores, out.name, OnnxDataType.FLOAT, ['N', OBJECT_CLASS_COUNT], out.meaning);
  return { graph: g.build('MB3-CenterNet COCO object detector (@vladmandic/human models/centernet.json), class heatmap maxima') };
}
