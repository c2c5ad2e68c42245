export { ClassifyHandler, LABEL_IOU, type ClassifyHandlerDeps } from './classify-handler.js';
export { FaceNamer, type ClassifierKind } from './face-namer.js';
export { GalleryCache } from './gallery-cache.js';
export { GalleryRepository } from './gallery-repository.js';
export { GalleryBuilder } from './gallery-builder.js';
export { startClassifyStage } from './classify-worker.js';
export { IndexNamer, type IndexedName } from './index-namer.js';
export { JobBatcher, type JobBatcherOptions } from './job-batcher.js';
