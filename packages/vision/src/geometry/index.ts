export { boxToCorners, cornersToBox, boxArea, iou, clipBox, cropRectForBox, scaleBox, boundingBoxOfPoints, type Box, type Corners, type Point } from './box.js';
export { nonMaxSuppression, type NmsOptions } from './nms.js';
export { letterboxGeometry, letterboxToImage, imageToLetterbox, letterboxBoxToImage, type LetterboxGeometry } from './letterbox.js';
export {
  IDENTITY, similarityFromParams, similarityParams, applyAffine, applyAffineToPoints, composeAffine, invertAffine,
  estimateSimilarity, type Affine,
} from './similarity.js';
export { warpAffineBilinear, flipHorizontal, downsample2x, downsampleBox, type RgbPixels, type WarpOptions } from './warp.js';
export {
  DLIB_MEAN_FACE_X, DLIB_MEAN_FACE_Y, FACE_CHIP_LANDMARKS, faceChipTemplate, faceChipSimilarity, faceChipTransform,
  extractFaceChip, type FaceChipOptions, type FaceChip,
} from './face-chip.js';
export { turnSquareNhwc, unturnPoint, unturnCorners, placeOnCanvas, type QuarterTurns } from './quarter-turn.js';
export { tileGrid } from './tiles.js';
export { MEAN_FACE_SHAPE, NOSE_DEPTH, IBUG_MIRROR, fitFaceShape, rollQuarter, estimatePose, mirrorDisagreement, type ShapeFit } from './face-shape.js';
export { LANDMARK_REFINE_SCALE, landmarkRefineBox } from './landmark-crop.js';
