export {
  parseLfwPairs, lfwImagePath, assignFolds, bestThreshold, verificationAccuracy, rocAuc, evaluateVerification,
  type LfwPair, type LfwPairs, type ParseLfwPairsOptions, type FoldResult, type VerificationResult,
} from './lfw.js';
export {
  matchDetections, combineDetectionMatches, landmarkError, landmarkErrors, OUTER_EYE_CORNERS,
  type ScoredBox, type DetectionMatch,
} from './detection.js';
export { pickCentralFace, relativeBox, meanBox } from './face-choice.js';
export {
  keepDetections, matchImage, detectionEvalRow, type EvalDetection, type EvalImage, type AnnotatedFaces, type DetectionEvalRow, type DetectionEvalSets,
} from './detection-report.js';
export { parseBoxesCsv, parsePts, readBoxesCsv, readPtsFolder, readNegativesFolder, type AnnotatedImage } from './datasets.js';
