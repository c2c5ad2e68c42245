import {
  storedObjectMissing,
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
import { defaultNamingRule, isSearchFlagged, qualityFailure, type FaceIndex, type FaceToIndex } from '@facepipe/face-index';
import { iou } from '@facepipe/vision';
import type { GalleryCache } from './gallery-cache.js';
import { IndexNamer, LABEL_IOU, type IndexedName } from './index-namer.js';

export { LABEL_IOU };

export interface ClassifyHandlerDeps {
  store: ObjectStore;
  gallery: Pick<GalleryCache, 'current'>;
  outcomes: Pick<OutcomeRecorder, 'recordSuccess'>;
  /**
   * The face index (DATABASE_URL). With it, names given by hand and enrollments come from the
   * index, the image and its faces are written there in the same job, and unnamed faces are
   * clustered; without it, the result document is all (names by hand from labels/ in S3).
   */
  index?: FaceIndex;
  /** Caps the naming rule's distances (FACEPIPE_MATCH_TOLERANCE). @defaultValue 0.6 */
  tolerance?: number;
}

/**
 * The last stage: faces + embeddings + gallery (+ the face index) → the image's result document
 * and its rows in the face index, then the batch counts. Names given by people live apart from
 * results (in the index, or labels/ in S3 without one) and are applied here, so re-running the
 * pipeline never erases them. The index write is idempotent (keyed by image, face index and
 * embedding version) and commits before the result document is written, so a retry after a
 * failed S3 write changes nothing in the index.
 */
export class ClassifyHandler {
  readonly #namer: IndexNamer;

  constructor(readonly deps: ClassifyHandlerDeps) {
    const t = deps.tolerance ?? 0.6;
    this.#namer = new IndexNamer({ ...defaultNamingRule, nameDistance: Math.min(defaultNamingRule.nameDistance, t), minNameDistance: Math.min(defaultNamingRule.minNameDistance, t), suggestDistance: Math.min(defaultNamingRule.suggestDistance, t) });
  }

  async handle(data: ClassifyJobData, ctx?: Pick<StageContext, 'log'>): Promise<ResultDocument> {
    const { store, gallery, outcomes, index } = this.deps;
    const t0 = performance.now();
    const { facesDoc, embeddings } = await this.#inputs(data);
    if (embeddings) {
      // Faces erased on request are gone from faces.json; their slots stay (emptied) in the embeddings.
      const slots = facesDoc.faces.length + (facesDoc.erasedFaces?.length ?? 0);
      if (embeddings.embeddings.length !== slots) {
        throw new FacepipeError('INVALID_PAYLOAD', `${slots} faces but ${embeddings.embeddings.length} embeddings`);
      }
    }
    const [namer, labels] = await Promise.all([
      gallery.current(),
      facesDoc.faces.length > 0 && !index ? store.getJson<LabelsDocument>(objectKeys.labels(data.imageId)) : Promise.resolve(undefined),
    ]);
    const comparable = namer.accepts(data.embedVersion);
    let faces: ResultFace[] = facesDoc.faces.map((face) => {
      const embedding = embeddings?.embeddings[face.index] ?? [];
      const gate = qualityFailure(face, { width: facesDoc.width ?? 0, height: facesDoc.height ?? 0 });
      const decided: { match: FaceMatch; suggestion?: { name: string; distance: number } } = comparable
        ? namer.decide(embedding, gate === null)
        : { match: { name: null, distance: null, confidence: 0, method: namer.options.classifier, galleryVersion: namer.version } };
      const { match } = decided;
      const label = labels?.faces.find((l) => iou(l.box, face.box) >= LABEL_IOU);
      return {
        ...face,
        cropKey: cropKeyOf(data, facesDoc),
        cropIndex: face.index,
        embedding,
        embeddingModel: embeddings?.embed.recognition ?? '',
        match,
        ...(label ? { label: { name: label.name, at: label.at, ...(label.by ? { by: label.by } : {}) } } : {}),
        name: label?.name ?? match.name,
        ...(decided.suggestion && !label ? { suggestion: decided.suggestion } : {}),
        ...(gate ? { qualityGate: gate } : {}),
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
      ...(facesDoc.rejected ? { rejected: facesDoc.rejected } : {}),
      versions: {
        pipeline: data.pipelineVersion,
        detect: facesDoc.detect,
        embed: embeddings?.embed ?? null,
        gallery: namer.version,
      },
      timings: {
        ...prefixed('detect.', facesDoc.timings),
        ...(embeddings ? prefixed('embed.', embeddings.timings) : {}),
      },
      processedAt: new Date().toISOString(),
    };
    if (index) {
      faces = await this.#index(index, result, data.embedVersion);
      result.faces = faces;
      index.noteWrites(Math.max(1, faces.length));
    }
    result.timings.classifyMs = Math.round(performance.now() - t0);
    result.timings.totalMs = Date.now() - data.enqueuedAt;
    await outcomes.recordSuccess(result);
    await this.#dropIntermediates(data, ctx);
    return result;
  }

  /**
   * The detect and embed stages' outputs for this job: their documents, or once those were
   * consumed and deleted, the image's result document of the same versions, which holds the same
   * faces and embeddings (a re-classification after an enrollment, a re-index).
   */
  async #inputs(data: ClassifyJobData): Promise<{ facesDoc: FacesDocument; embeddings?: EmbeddingsDocument }> {
    const { store } = this.deps;
    const [facesDoc, embeddings] = await Promise.all([
      store.getJson<FacesDocument>(objectKeys.faces(data.imageId, data.detectVersion)),
      data.embedVersion === null ? undefined : store.getJson<EmbeddingsDocument>(objectKeys.embeddings(data.imageId, data.detectVersion, data.embedVersion)),
    ]);
    if (facesDoc && (data.embedVersion === null || embeddings)) return { facesDoc, embeddings };
    const earlier = intermediatesFromResult(await store.getJson<ResultDocument>(objectKeys.result(data.imageId)), data);
    if (earlier) return earlier;
    // Objects facepipe stored itself: their loss is the system's failure, not the photo's.
    if (!facesDoc) throw storedObjectMissing(objectKeys.faces(data.imageId, data.detectVersion), `the faces document of ${data.imageId} (detect ${data.detectVersion})`);
    throw storedObjectMissing(objectKeys.embeddings(data.imageId, data.detectVersion, data.embedVersion!), `the embeddings of ${data.imageId} (embed ${data.embedVersion})`);
  }

  /**
   * faces.json and embeddings.json are consumed once the result holds what they held: deleting
   * them keeps derived storage to the chips and the result (docs/benchmarks.md, storage). Best
   * effort: one left behind (S3 down just now) costs bytes, never correctness.
   */
  async #dropIntermediates(data: ClassifyJobData, ctx?: Pick<StageContext, 'log'>): Promise<void> {
    const { store } = this.deps;
    const keys = [
      objectKeys.faces(data.imageId, data.detectVersion),
      ...(data.embedVersion === null ? [] : [objectKeys.embeddings(data.imageId, data.detectVersion, data.embedVersion)]),
      // The exact chips, once embed wrote their display rendition (the result's crops).
      ...(data.chipsView ? [objectKeys.chips(data.imageId, data.detectVersion)] : []),
    ];
    const outcomes = await Promise.allSettled(keys.map((key) => store.delete(key)));
    const failed = outcomes.filter((o) => o.status === 'rejected').length;
    if (failed > 0) ctx?.log.debug('intermediate objects left behind', { failed });
  }

  /**
   * Names the faces from the index, writes the image and its faces, clusters the unnamed ones:
   * one transaction, holding the index's write lock from its start (names and clusters decided
   * on a library no other writer changes meanwhile).
   */
  async #index(index: FaceIndex, result: ResultDocument, embedVersion: string | null): Promise<ResultFace[]> {
    return index.writeTransaction(async (r) => {
      const names = await this.#namer.name(r, result.imageId, embedVersion, result.faces.map((f) => ({ ...f, qualityOk: f.qualityGate === undefined })));
      await r.images.upsert({
        id: result.imageId,
        source: result.source,
        originalKey: result.originalKey,
        status: 'done',
        pipelineVersion: result.versions.pipeline,
        detectVersion: result.versions.detect?.tag ?? null,
        embedVersion,
        galleryVersion: result.versions.gallery,
        faceCount: result.faceCount,
        resultKey: objectKeys.result(result.imageId),
        errorCode: null,
        processedAt: result.processedAt,
      });
      const embedded = embedVersion !== null ? result.faces.filter((f) => f.embedding.length > 0) : [];
      const rows: FaceToIndex[] = embedded.map((f) => {
        const n = names[result.faces.indexOf(f)]!;
        return {
          faceIndex: f.index, box: f.box, score: f.score, quality: searchQuality(f, result), embedding: f.embedding, personId: n.personId, personSource: n.source, matchDistance: n.distance,
          qualityOk: f.qualityGate === undefined, suggestion: n.suggestion ? { personId: n.suggestion.personId, distance: n.suggestion.distance } : null,
        };
      });
      const written = await r.faces.replaceImageFaces(result.imageId, embedVersion ?? '', result.faces[0]?.embeddingModel ?? '', rows);
      if (embedVersion !== null) await r.clusterer.addFaces(embedVersion, written.filter((_, i) => rows[i]!.personSource === null));
      return result.faces.map((f, i) => withIndexedName(f, names[i]!));
    });
  }
}

function withIndexedName(face: ResultFace, n: IndexedName): ResultFace {
  const out: ResultFace = { ...face, name: n.name };
  delete out.label;
  delete out.suggestion;
  if (n.suggestion && n.personId === null) {
    out.suggestion = { name: n.suggestion.name, distance: n.suggestion.distance };
    out.match = { ...face.match, name: null, distance: n.suggestion.distance, confidence: 0 };
  } else if (n.personId === null && n.source === null && face.match.name !== null) {
    // The index's examples did not support the gallery's name.
    out.match = { ...face.match, name: null, distance: n.distance, confidence: 0 };
  }
  if (n.source === 'hand' && n.label && n.name !== null) out.label = { name: n.name, at: n.label.at, ...(n.label.by ? { by: n.label.by } : {}) };
  if (n.source === 'auto' && n.name !== null && n.name !== face.match.name) {
    // An example in the index (a named cluster, a hand label) was nearer than the gallery's match.
    out.match = { ...face.match, name: n.name, distance: n.distance, method: 'nearest' };
  }
  return out;
}

function prefixed(prefix: string, timings: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(timings).map(([k, v]) => [`${prefix}${k}`, v]));
}

/** The index's `quality` of a face: 0 when flagged small, blurred or cut by the border (ranked lower in search), else 1. */
function searchQuality(face: ResultFace, image: { width: number | null; height: number | null }): number {
  const size = image.width !== null && image.height !== null ? { width: image.width, height: image.height } : null;
  return isSearchFlagged({ box: face.box, sharpness: face.quality?.sharpness ?? null, image: size }) ? 0 : 1;
}

/** The faces and embeddings of a done result of the job's detect and embed versions, as their stage documents. */
export function intermediatesFromResult(result: ResultDocument | undefined, data: ClassifyJobData): { facesDoc: FacesDocument; embeddings?: EmbeddingsDocument } | undefined {
  if (!result || result.status !== 'done' || result.versions.detect?.tag !== data.detectVersion) return undefined;
  if (data.embedVersion !== null && result.versions.embed?.tag !== data.embedVersion) return undefined;
  const t = (stage: string, name: string) => result.timings[`${stage}.${name}`] ?? 0;
  const slots = result.faces.reduce((n, f) => Math.max(n, f.index + 1), 0);
  const byIndex = new Map(result.faces.map((f) => [f.index, f.embedding]));
  const erasedFaces = Array.from({ length: slots }, (_, i) => i).filter((i) => !byIndex.has(i));
  const facesDoc: FacesDocument = {
    schema: 'facepipe.faces/1',
    imageId: result.imageId,
    width: result.width ?? 0,
    height: result.height ?? 0,
    format: result.format ?? '',
    orientation: 1,
    detect: result.versions.detect,
    faces: result.faces.map(({ index, box, score, landmarks, quality }) => ({ index, box, score, landmarks, ...(quality ? { quality } : {}) })),
    // Indexes no face has any more (erased on request): their embedding slots stay, empty.
    ...(erasedFaces.length > 0 ? { erasedFaces } : {}),
    chipsKey: result.faces[0]?.cropKey ?? null,
    timings: { fetchMs: t('detect', 'fetchMs'), decodeMs: t('detect', 'decodeMs'), detectMs: t('detect', 'detectMs'), landmarksMs: t('detect', 'landmarksMs'), alignMs: t('detect', 'alignMs'), storeMs: t('detect', 'storeMs') },
    ...(result.rejected ? { rejected: result.rejected } : {}),
    detectedAt: result.processedAt,
  };
  if (data.embedVersion === null || !result.versions.embed) return { facesDoc };
  const embeddings: EmbeddingsDocument = {
    schema: 'facepipe.embeddings/1',
    imageId: result.imageId,
    detectVersion: data.detectVersion,
    embed: result.versions.embed,
    embeddings: Array.from({ length: slots }, (_, i) => byIndex.get(i) ?? []),
    timings: { fetchMs: t('embed', 'fetchMs'), embedMs: t('embed', 'embedMs') },
    embeddedAt: result.processedAt,
  };
  return { facesDoc, embeddings };
}

/**
 * Where the result's crops are: the display rendition when the embed stage wrote one (its exact
 * chips are deleted with the other intermediates), else the chips as detect stored them.
 */
function cropKeyOf(data: ClassifyJobData, facesDoc: FacesDocument): string {
  if (!facesDoc.chipsKey) return '';
  return data.chipsView ? objectKeys.chipsView(data.imageId, data.detectVersion) : facesDoc.chipsKey;
}
