/**
 * Axis-aligned boxes. Coordinates are continuous pixel coordinates (the image spans 0..width),
 * so a box's width is `x2 - x1` with no +1.
 */

/** `[x, y, width, height]`: top-left corner and size, the form results use. */
export type Box = readonly [x: number, y: number, width: number, height: number];

/** `[x1, y1, x2, y2]`: top-left and bottom-right corners. */
export type Corners = readonly [x1: number, y1: number, x2: number, y2: number];

/** A 2-D point `[x, y]`. */
export type Point = readonly [x: number, y: number];

/** `[x, y, w, h]` → `[x1, y1, x2, y2]`. */
export function boxToCorners(box: Box): Corners {
  return [box[0], box[1], box[0] + box[2], box[1] + box[3]];
}

/** `[x1, y1, x2, y2]` → `[x, y, w, h]`; corners given in either order are normalised. */
export function cornersToBox(c: Corners): Box {
  const x1 = Math.min(c[0], c[2]);
  const y1 = Math.min(c[1], c[3]);
  return [x1, y1, Math.max(c[0], c[2]) - x1, Math.max(c[1], c[3]) - y1];
}

/** Area of a box; 0 for empty or inverted boxes. */
export function boxArea(box: Box): number {
  return Math.max(0, box[2]) * Math.max(0, box[3]);
}

/** Intersection over union of two boxes, in [0, 1]; 0 when either is empty. */
export function iou(a: Box, b: Box): number {
  const ix = Math.min(a[0] + a[2], b[0] + b[2]) - Math.max(a[0], b[0]);
  const iy = Math.min(a[1] + a[3], b[1] + b[3]) - Math.max(a[1], b[1]);
  if (ix <= 0 || iy <= 0) return 0;
  const inter = ix * iy;
  const union = boxArea(a) + boxArea(b) - inter;
  return union > 0 ? inter / union : 0;
}

/**
 * Clips a box to the image `[0, width] × [0, height]`. A box entirely outside comes back with
 * zero width or height.
 */
export function clipBox(box: Box, width: number, height: number): Box {
  const x1 = Math.min(Math.max(box[0], 0), width);
  const y1 = Math.min(Math.max(box[1], 0), height);
  const x2 = Math.min(Math.max(box[0] + box[2], 0), width);
  const y2 = Math.min(Math.max(box[1] + box[3], 0), height);
  return [x1, y1, Math.max(0, x2 - x1), Math.max(0, y2 - y1)];
}

/**
 * The integer pixel rectangle face-api crops for a box (`Box.clipAtImageBorders`): clip the
 * top-left to 0, clip the size to the image, then floor all four numbers.
 */
export function cropRectForBox(box: Box, width: number, height: number): Box {
  const x = Math.max(box[0], 0);
  const y = Math.max(box[1], 0);
  const w = Math.min(box[0] + box[2] - x, width - x);
  const h = Math.min(box[1] + box[3] - y, height - y);
  return [Math.floor(x), Math.floor(y), Math.floor(w), Math.floor(h)];
}

/** Scales a box about the origin (e.g. relative `[0,1]` coordinates → pixels). */
export function scaleBox(box: Box, sx: number, sy: number = sx): Box {
  return [box[0] * sx, box[1] * sy, box[2] * sx, box[3] * sy];
}

/** The smallest box containing all points (e.g. a face box from its 68 landmarks). */
export function boundingBoxOfPoints(points: readonly Point[]): Box {
  if (points.length === 0) throw new RangeError('boundingBoxOfPoints needs at least one point');
  let x1 = Infinity;
  let y1 = Infinity;
  let x2 = -Infinity;
  let y2 = -Infinity;
  for (const [x, y] of points) {
    x1 = Math.min(x1, x);
    y1 = Math.min(y1, y);
    x2 = Math.max(x2, x);
    y2 = Math.max(y2, y);
  }
  return [x1, y1, x2 - x1, y2 - y1];
}
