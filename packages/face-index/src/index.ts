export { migrations, type Migration } from './migrations.js';
export { migrate } from './migrator.js';
export { EmbeddedDatabase, runningEmbeddedDatabase, socketDatabaseUrl, SocketPathTooLongError, type EmbeddedDatabaseOptions, type EmbeddedDatabaseAnnouncement } from './embedded-database.js';
export { FaceIndex, redactUrl, type FaceIndexOptions, type FaceIndexRepositories } from './face-index.js';
export { ImageRepository, type IndexedImage, type ReindexSelection } from './image-repository.js';
export { FaceRepository, type FaceToIndex, type ImageFaces, type WrittenFace, type FaceState, type FaceHit, type NeighbourQuery, type PersonSource, type SuggestedFace } from './face-repository.js';
export { PeopleRepository, type Person, type PersonSummary } from './people-repository.js';
export { PeopleAuditRepository, type PeopleAuditEntry, type PeopleAction } from './people-audit-repository.js';
export { CrowdRepository, type SampledFace, type StoredCrowd } from './crowd-repository.js';
export { CrowdCalibrator } from './crowd-calibrator.js';
export { ClusterRepository, type ClusterCursor, type ClusterSummary } from './cluster-repository.js';
export { lockFaceWrites } from './face-write-lock.js';
export { FaceClusterer, defaultClusteringOptions, type BatchFace, type ClusteringOptions } from './face-clusterer.js';
export { FaceLibrary, tallyPreview, type FaceAnswer, type FaceLibraryOptions, type LibraryChange, type LibraryPreview, type PreviewedFace } from './face-library.js';
export { openLibrary, locateLibrary, embeddedDatabaseDir, deploymentDatabaseUrl, type LibraryLocation, type OpenLibraryOptions, type OpenedLibrary } from './open-library.js';
export { toVectorLiteral, parseVectorLiteral } from './vector-literal.js';
export { dbscan, exactNeighbourhoods, euclidean } from './clustering/dbscan.js';
export { chineseWhispers } from './clustering/chinese-whispers.js';
export { clusterQuality, stableClusterIds, type ClusterQuality } from './clustering/cluster-metrics.js';
export { syncResultDocuments } from './result-sync.js';
export { ErasureRepository, noRows, type ErasableFace, type ErasedRows } from './erasure-repository.js';
export { DEFAULT_SEARCH_QUALITY, isSearchFlagged, rankDistance, rankSearchHits, type SearchFlagFace, type SearchQualityOptions } from './search-ranking.js';
export { decideName, classicNearest, namingThreshold, personThreshold, withTolerance, defaultNamingRule, type NamingRuleOptions, type NamingDecision, type ExampleHit, type GalleryFacts, type NotNamedReason } from './naming/naming-rule.js';
export { countCrowd, crowdShift, evidenceFor, sampleEvenly, type PersonCrowd, type CrowdCalibrationOptions } from './naming/crowd-calibration.js';
export { qualityFailure, defaultQualityGate, type QualityGateOptions, type QualityFailure, type GatedFace } from './quality/face-quality-gate.js';
export {
  placeFace, fitsCluster, averageLinkage, clusterInMemory, MemoryClusterStore, defaultSupportedClustering,
  type SupportedClusteringOptions, type ClusterStore, type ClusterFace, type ClusterNeighbour,
} from './clustering/supported-clustering.js';
export { evaluateLibrary, formatLibraryReport, clusterFigures, subjectFace, type EvalPhoto, type LibraryEvalOptions, type LibraryEvalReport, type NamingFigures, type ClusterFigures, type ClusterNamingFigures } from './eval/library-eval.js';
