export type {
  Box,
  Point,
  DetectVersionInfo,
  EmbedVersionInfo,
  DetectedFace,
  FacesDocument,
  EmbeddingsDocument,
  FaceMatch,
  FaceLabel,
  ResultFace,
  ResultDocument,
  ManifestEntry,
} from './documents.js';
