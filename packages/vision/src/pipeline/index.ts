export { FaceAnalyzer, type FaceAnalyzerOptions, type AnalyzedImage, type FaceChecksReport } from './face-analyzer.js';
export {
  checkOrientation, chooseOrientation, needsOrientationCheck, orientationCheckTag, resolveOrientationCheck,
  type OrientationCheckOptions, type OrientationCheckResult, type ResolvedOrientationCheck,
} from './face-orientation.js';
export {
  isNotAFace,
  isAnimalFace,
  mirroredCropLandmarks,
  faceScreenTag,
  resolveFaceScreen,
  speciesOfFaces,
  speciesScores,
  animalCropBox,
  type AnimalScreenOptions,
  type FaceScreenOptions,
  type ResolvedAnimalScreen,
  type ResolvedFaceScreen,
  type SpeciesScores,
} from './face-screen.js';
export {
  FaceDetector, selectFaces, ssdInputSide, ssdInputExtent, detectStrategy, SSD_MIN_INPUT, type DetectorKind, type SsdInputExtent, type DetectorOptions, type DetectPassOptions, type Detection, type FoundFace,
} from './detector.js';
export { wantsPaddedPass, wantsTilesPass, wantsTurnedPasses, chooseTurnedPass, type FoundBox } from './detect-passes.js';
export { Embedder, EMBEDDING_DIMS } from './embedder.js';
export { alignFaces, encodeChips, encodeChipsView, decodeChips, rawChips, CHIP_SIZE, CHIP_PADDING } from './chips.js';
export { detectVersionInfo, embedVersionInfo, pipelineVersion, detectorModel, faceChecksTag, type DetectSettings } from './versions.js';
export { createDetectEngine, createEmbedEngine, configuredVersions, analyzerOptionsFromConfig, screenFromChecks } from './engines.js';
export { mirrorRowsInPlace, refineLandmarks } from './face-crops.js';
