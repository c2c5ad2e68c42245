/**
 * SSD MobileNetV1 anchors for any input size. face-api ships the 5118 anchors of a 512×512 input
 * (TF Object Detection's `create_ssd_anchors`: six layers, scales 0.2…0.95, aspect ratios
 * 1, 2, ½, 3, ⅓ plus an interpolated scale, three boxes in the lowest layer). The network is fully
 * convolutional, so a smaller input gives smaller feature maps; its anchors follow from their
 * sizes. Anchor sizes stay fixed in input pixels (the network learnt them at 512, its receptive
 * fields do not change with the input), so in normalised coordinates they scale by 512 / side.
 * The input need not be square: rows and columns follow the input's height and width each (TF's
 * grid anchor generator works per axis), so a 3:2 photo runs at 512×352 instead of paying for
 * 160 rows of black padding.
 */

/** The input side face-api's SSD was trained and exported at. */
export const SSD_TRAINED_INPUT = 512;

/** Per layer: [scale, aspect ratio] in the exported order (checked against face-api's anchors). */
const LAYER_SCALES = [0.2, 0.35, 0.5, 0.65, 0.8, 0.95];
const ASPECT_THIRD = 0.3333; // TF's config value, not 1/3 (the exported anchors show it)

function boxSpecs(layer: number): [number, number][] {
  const scale = LAYER_SCALES[layer]!;
  if (layer === 0) return [[0.1, 1], [scale, 2], [scale, 0.5]];
  const next = LAYER_SCALES[layer + 1] ?? 1;
  return [[scale, 1], [Math.sqrt(scale * next), 1], [scale, 2], [scale, 0.5], [scale, 3], [scale, ASPECT_THIRD]];
}

/**
 * Feature-map sizes of the six prediction layers for an input of `side` pixels (a multiple of 32):
 * conv11 at stride 16, conv13 at 32, then four stride-2 'same' convolutions (ceil halving).
 */
export function ssdFeatureMapSizes(side: number): number[] {
  if (!Number.isInteger(side) || side < 64 || side % 32 !== 0) throw new RangeError(`SSD input side must be a multiple of 32, at least 64; got ${side}`);
  const sizes = [side / 16, side / 32];
  while (sizes.length < 6) sizes.push(Math.ceil(sizes.at(-1)! / 2));
  return sizes;
}

/** Number of anchors for a `height`×`width` input (5118 at 512×512). */
export function ssdAnchorCount(height: number, width = height): number {
  const rows = ssdFeatureMapSizes(height);
  const cols = ssdFeatureMapSizes(width);
  return rows.reduce((n, fh, layer) => n + fh * cols[layer]! * boxSpecs(layer).length, 0);
}

/**
 * Anchors `[count × 4]` (ymin, xmin, ymax, xmax), normalised to a `height`×`width` input (square
 * when `width` is left out), in the order of the model's outputs (layer, row, column, box). At
 * 512×512 they equal face-api's to float32 rounding.
 */
export function ssdAnchors(height: number, width = height): Float32Array {
  const rowsPerLayer = ssdFeatureMapSizes(height);
  const colsPerLayer = ssdFeatureMapSizes(width);
  const out = new Float32Array(ssdAnchorCount(height, width) * 4);
  const heightScale = SSD_TRAINED_INPUT / height;
  const widthScale = SSD_TRAINED_INPUT / width;
  let o = 0;
  rowsPerLayer.forEach((fh, layer) => {
    const fw = colsPerLayer[layer]!;
    const specs = boxSpecs(layer).map(([scale, ratio]) => [(scale / Math.sqrt(ratio)) * heightScale, scale * Math.sqrt(ratio) * widthScale] as const);
    for (let row = 0; row < fh; row++) {
      const cy = (row + 0.5) / fh;
      for (let col = 0; col < fw; col++) {
        const cx = (col + 0.5) / fw;
        for (const [h, w] of specs) {
          out[o++] = cy - h / 2;
          out[o++] = cx - w / 2;
          out[o++] = cy + h / 2;
          out[o++] = cx + w / 2;
        }
      }
    }
  });
  return out;
}
