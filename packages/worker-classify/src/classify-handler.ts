import {
  FacepipeError,
  objectKeys,
  type ClassifyJobData,
  type EmbeddingsDocument,
  type FaceMatch,
  type FacesDocument,
  type LabelsDocument,
  type ObjectStore,
  type OutcomeRecorder,
  type ResultDocument,
  type ResultFace,
  type StageContext,
} from '@facepipe/core';
import { iou } from '@facepipe/vision';
import type { GalleryCache } from './gallery-cache.js';

export interface ClassifyHandlerDeps {
  store: ObjectStore;
  gallery: Pick<GalleryCache, 'current'>;
  outcomes: Pick<OutcomeRecorder, 'recordSuccess'>;
}

/** Overlap at which a name given to a box carries over to a face detected in a re-run. */
export const LABEL_IOU = 0.5;

/**
 * The last stage: faces + embeddings + gallery (+ names given by people) → the image's result
 * document, then the batch counts. Names given by people live in their own object and are
 * merged here, so re-running the pipeline never erases them.
 * S3 requests per image: 3 reads (faces, embeddings, labels), 1 write; the gallery is cached.
 */
export class ClassifyHandler {
  constructor(readonly deps: ClassifyHandlerDeps) {}

  async handle(data: ClassifyJobData, ctx?: Pick<StageContext, 'log'>): Promise<ResultDocument> {
    const { store, gallery, outcomes } = this.deps;
    const t0 = performance.now();
    const facesDoc = await store.getJson<FacesDocument>(objectKeys.faces(data.imageId, data.detectVersion));
    if (!facesDoc) throw new FacepipeError('OBJECT_NOT_FOUND', `faces of ${data.imageId} (detect ${data.detectVersion}) are missing`);
    let embeddings: EmbeddingsDocument | undefined;
    if (data.embedVersion !== null) {
      embeddings = await store.getJson<EmbeddingsDocument>(objectKeys.embeddings(data.imageId, data.detectVersion, data.embedVersion));
      if (!embeddings) throw new FacepipeError('OBJECT_NOT_FOUND', `embeddings of ${data.imageId} (embed ${data.embedVersion}) are missing`);
      if (embeddings.embeddings.length !== facesDoc.faces.length) {
        throw new FacepipeError('INVALID_PAYLOAD', `${facesDoc.faces.length} faces but ${embeddings.embeddings.length} embeddings`);
      }
    }
    const [namer, labels] = await Promise.all([
      gallery.current(),
      facesDoc.faces.length > 0 ? store.getJson<LabelsDocument>(objectKeys.labels(data.imageId)) : Promise.resolve(undefined),
    ]);
    const comparable = namer.accepts(data.embedVersion);
    const faces: ResultFace[] = facesDoc.faces.map((face) => {
      const embedding = embeddings?.embeddings[face.index] ?? [];
      const match: FaceMatch = comparable
        ? namer.name(embedding)
        : { name: null, distance: null, confidence: 0, method: namer.options.classifier, galleryVersion: namer.version };
      const label = labels?.faces.find((l) => iou(l.box, face.box) >= LABEL_IOU);
      return {
        ...face,
        cropKey: facesDoc.chipsKey ?? '',
        cropIndex: face.index,
        embedding,
        embeddingModel: embeddings?.embed.recognition ?? '',
        match,
        ...(label ? { label: { name: label.name, at: label.at, ...(label.by ? { by: label.by } : {}) } } : {}),
        name: label?.name ?? match.name,
      };
    });
    if (!comparable && faces.length > 0 && namer.version !== null) {
      ctx?.log.warn('gallery was built with another embedding model; faces left unnamed until it is rebuilt', {
        galleryVersion: namer.version,
        embedVersion: data.embedVersion,
      });
    }
    const result: ResultDocument = {
      schema: 'facepipe.result/1',
      imageId: data.imageId,
      status: 'done',
      source: data.source,
      originalKey: data.originalKey,
      width: facesDoc.width,
      height: facesDoc.height,
      format: facesDoc.format,
      faceCount: faces.length,
      faces,
      versions: {
        pipeline: data.pipelineVersion,
        detect: facesDoc.detect,
        embed: embeddings?.embed ?? null,
        gallery: namer.version,
      },
      timings: {
        ...prefixed('detect.', facesDoc.timings),
        ...(embeddings ? prefixed('embed.', embeddings.timings) : {}),
        classifyMs: Math.round(performance.now() - t0),
        totalMs: Date.now() - data.enqueuedAt,
      },
      processedAt: new Date().toISOString(),
    };
    await outcomes.recordSuccess(result);
    return result;
  }
}

function prefixed(prefix: string, timings: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(timings).map(([k, v]) => [`${prefix}${k}`, v]));
}
