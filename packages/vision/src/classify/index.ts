export { euclideanDistance, squaredEuclideanDistance, cosineSimilarity, l2Norm, l2Normalize, meanEmbedding, type Embedding } from './distance.js';
export { matchNearest, DEFAULT_TOLERANCE, type GalleryEntry, type NearestMatch, type NearestOptions } from './nearest.js';
export {
  trainLinearSvm, predictLinearSvm, svmDecisionValues, parseLinearSvmModel,
  type LinearSvmModel, type SvmTrainOptions, type SvmPredictOptions, type SvmPrediction,
} from './svm.js';
export {
  parseLfwPairs, lfwImagePath, assignFolds, bestThreshold, verificationAccuracy, rocAuc, evaluateVerification,
  type LfwPair, type LfwPairs, type ParseLfwPairsOptions, type FoldResult, type VerificationResult,
} from './lfw.js';
export {
  matchDetections, combineDetectionMatches, landmarkError, landmarkErrors, OUTER_EYE_CORNERS,
  type ScoredBox, type DetectionMatch,
} from './detection-eval.js';
