export { euclideanDistance, squaredEuclideanDistance, cosineSimilarity, l2Norm, l2Normalize, meanEmbedding, type Embedding } from './distance.js';
export { matchNearest, DEFAULT_TOLERANCE, type GalleryEntry, type NearestMatch, type NearestOptions } from './nearest.js';
export {
  trainLinearSvm, predictLinearSvm, svmDecisionValues, parseLinearSvmModel,
  type LinearSvmModel, type SvmTrainOptions, type SvmPredictOptions, type SvmPrediction,
} from './svm.js';
