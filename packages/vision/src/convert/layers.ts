/**
 * TF.js layer semantics expressed as ONNX nodes (NCHW inside the graph). Weight layouts are
 * converted from TF's HWIO / depthwise HWC1 to ONNX's OIHW. TF 'same' padding puts the odd extra
 * pixel at the end (bottom/right), which is computed here as explicit pads from the feature size.
 */
import { type GraphBuilder, attr } from './graph-builder.js';
import { OnnxDataType } from './onnx-proto.js';

/** A feature map value in the graph: NCHW with known channels and (nominal) spatial size. */
export interface Fmap {
  value: string;
  channels: number;
  height: number;
  width: number;
}

/** TF padding for one spatial axis: [before, after]. */
export function tfPads(size: number, kernel: number, stride: number, padding: 'same' | 'valid'): [number, number] {
  if (padding === 'valid') return [0, 0];
  const out = Math.ceil(size / stride);
  const total = Math.max(0, (out - 1) * stride + kernel - size);
  const before = Math.floor(total / 2);
  return [before, total - before];
}

function outSize(size: number, kernel: number, stride: number, pads: [number, number]): number {
  return Math.floor((size + pads[0] + pads[1] - kernel) / stride) + 1;
}

/** HWIO [kh, kw, ci, co] → OIHW [co, ci, kh, kw]. */
export function hwioToOihw(data: Float32Array, [kh, kw, ci, co]: readonly number[]): Float32Array {
  const out = new Float32Array(data.length);
  for (let y = 0; y < kh!; y++)
    for (let x = 0; x < kw!; x++)
      for (let i = 0; i < ci!; i++)
        for (let o = 0; o < co!; o++) out[((o * ci! + i) * kh! + y) * kw! + x] = data[((y * kw! + x) * ci! + i) * co! + o]!;
  return out;
}

/** Depthwise HWC1 [kh, kw, c, 1] → grouped-conv OIHW [c, 1, kh, kw]. */
export function depthwiseToOihw(data: Float32Array, [kh, kw, c, m]: readonly number[]): Float32Array {
  if (m !== 1) throw new Error(`depthwise multiplier ${m} is not supported`);
  const out = new Float32Array(data.length);
  for (let y = 0; y < kh!; y++)
    for (let x = 0; x < kw!; x++) for (let ch = 0; ch < c!; ch++) out[(ch * kh! + y) * kw! + x] = data[(y * kw! + x) * c! + ch]!;
  return out;
}

export interface ConvOptions {
  /** OIHW weights. */
  weight: Float32Array;
  kernel: [number, number];
  outChannels: number;
  bias?: Float32Array;
  stride: number;
  /** TF padding mode, or explicit [top, left, bottom, right]. */
  padding: 'same' | 'valid' | [number, number, number, number];
  group?: number;
  hint: string;
  /**
   * For graphs with a dynamic input size: TF 'same' becomes ONNX `auto_pad: SAME_UPPER` (the same
   * padding, extra pixel at the end, computed by the runtime from the actual size) instead of
   * explicit pads fixed for the nominal size. Identical outputs at the nominal size.
   * @defaultValue false
   */
  dynamicSame?: boolean;
}

export function conv(g: GraphBuilder, x: Fmap, o: ConvOptions): Fmap {
  const [kh, kw] = o.kernel;
  const group = o.group ?? 1;
  const ph: [number, number] = Array.isArray(o.padding) ? [o.padding[0], o.padding[2]] : tfPads(x.height, kh, o.stride, o.padding);
  const pw: [number, number] = Array.isArray(o.padding) ? [o.padding[1], o.padding[3]] : tfPads(x.width, kw, o.stride, o.padding);
  const inPerGroup = x.channels / group;
  if (o.weight.length !== o.outChannels * inPerGroup * kh * kw) {
    throw new Error(`${o.hint}: ${o.weight.length} weights for [${o.outChannels},${inPerGroup},${kh},${kw}]`);
  }
  const inputs = [x.value, g.floats(`${o.hint}/W`, [o.outChannels, inPerGroup, kh, kw], o.weight)];
  if (o.bias) inputs.push(g.floats(`${o.hint}/B`, [o.outChannels], o.bias));
  const value = g.op(
    'Conv',
    inputs,
    {
      kernel_shape: attr.ints([kh, kw]),
      strides: attr.ints([o.stride, o.stride]),
      ...(o.dynamicSame && o.padding === 'same' ? { auto_pad: attr.string('SAME_UPPER') } : { pads: attr.ints([ph[0], pw[0], ph[1], pw[1]]) }),
      dilations: attr.ints([1, 1]),
      group: attr.int(group),
    },
    o.hint,
  );
  return {
    value,
    channels: o.outChannels,
    height: outSize(x.height, kh, o.stride, ph),
    width: outSize(x.width, kw, o.stride, pw),
  };
}

/** Elementwise op keeping the feature map's shape. */
export function unary(g: GraphBuilder, x: Fmap, op: string, hint: string, attributes = {}): Fmap {
  return { ...x, value: g.op(op, [x.value], attributes, hint) };
}

export function relu(g: GraphBuilder, x: Fmap, hint: string): Fmap {
  return unary(g, x, 'Relu', hint);
}

/** tf.clipByValue(x, lo, hi): Clip with constant min/max inputs (opset ≥ 11). */
export function clip(g: GraphBuilder, x: Fmap, lo: number, hi: number, hint: string): Fmap {
  const min = g.floats(`${hint}/min`, [], [lo]);
  const max = g.floats(`${hint}/max`, [], [hi]);
  return { ...x, value: g.op('Clip', [x.value, min, max], {}, hint) };
}

export function add(g: GraphBuilder, a: Fmap, b: Fmap, hint: string): Fmap {
  return { ...a, value: g.op('Add', [a.value, b.value], {}, hint) };
}

export function maxPool(g: GraphBuilder, x: Fmap, kernel: number, stride: number, pads: [number, number, number, number], hint: string): Fmap {
  const value = g.op(
    'MaxPool',
    [x.value],
    { kernel_shape: attr.ints([kernel, kernel]), strides: attr.ints([stride, stride]), pads: attr.ints(pads) },
    hint,
  );
  return {
    value,
    channels: x.channels,
    height: outSize(x.height, kernel, stride, [pads[0], pads[2]]),
    width: outSize(x.width, kernel, stride, [pads[1], pads[3]]),
  };
}

/** tf.avgPool(x, k, s, 'valid'). */
export function avgPoolValid(g: GraphBuilder, x: Fmap, kernel: number, stride: number, hint: string): Fmap {
  const value = g.op(
    'AveragePool',
    [x.value],
    { kernel_shape: attr.ints([kernel, kernel]), strides: attr.ints([stride, stride]), pads: attr.ints([0, 0, 0, 0]) },
    hint,
  );
  return {
    value,
    channels: x.channels,
    height: outSize(x.height, kernel, stride, [0, 0]),
    width: outSize(x.width, kernel, stride, [0, 0]),
  };
}

/** Zero padding of an NCHW map: [c, top, left] before and [c, bottom, right] after. */
export function zeroPad(g: GraphBuilder, x: Fmap, before: [number, number, number], after: [number, number, number], hint: string): Fmap {
  const pads = g.int64s(`${hint}/pads`, [0, before[0], before[1], before[2], 0, after[0], after[1], after[2]]);
  return {
    value: g.op('Pad', [x.value, pads], { mode: attr.string('constant') }, hint),
    channels: x.channels + before[0] + after[0],
    height: x.height + before[1] + after[1],
    width: x.width + before[2] + after[2],
  };
}

/**
 * The shared graph prologue: `image` NHWC 0..255 → (x - mean) / divisor + offset → NCHW.
 * Sub/Div match TF.js's op order, so the normalised values agree to the last bit or so.
 */
export function imageInput(
  g: GraphBuilder,
  shape: readonly (number | string)[],
  n: { mean: readonly number[]; divisor: number; offset: number },
  nominal: { height: number; width: number },
): Fmap {
  const image = g.input('image', OnnxDataType.FLOAT, shape);
  // Transpose first: a per-channel mean over NCHW broadcasts over whole planes, where over NHWC
  // it broadcasts a 3-wide vector per pixel, which ONNX Runtime runs about 10× slower. The
  // arithmetic per value is the same, so the outputs are too.
  let v = g.op('Transpose', [image], { perm: attr.ints([0, 3, 1, 2]) }, 'nchw');
  if (n.mean.some((m) => m !== 0)) v = g.op('Sub', [v, g.floats('mean_rgb', [1, 3, 1, 1], n.mean)], {}, 'sub_mean');
  v = g.op('Div', [v, g.floats('divisor', [], [n.divisor])], {}, 'div');
  if (n.offset !== 0) v = g.op('Sub', [v, g.floats('minus_offset', [], [-n.offset])], {}, 'offset');
  return { value: v, channels: 3, ...nominal };
}

/** NCHW → NHWC. */
export function toNhwc(g: GraphBuilder, x: Fmap, hint: string): string {
  return g.op('Transpose', [x.value], { perm: attr.ints([0, 2, 3, 1]) }, hint);
}
