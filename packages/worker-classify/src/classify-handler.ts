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
import { defaultNamingRule, isSearchFlagged, withTolerance, qualityFailure, type BatchFace, type FaceIndex, type FaceIndexRepositories, type FaceToIndex, type IndexedImage } from '@facepipe/face-index';
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
    this.#namer = new IndexNamer(withTolerance(defaultNamingRule, t));
  }

  /** Classifies one image: a micro-batch of one ({@link ClassifyHandler.handleBatch}). */
  async handle(data: ClassifyJobData, ctx?: Pick<StageContext, 'log'>): Promise<ResultDocument> {
    const [outcome] = await this.handleBatch([{ data, ...(ctx ? { ctx } : {}) }]);
    if (outcome!.status === 'rejected') throw outcome!.reason;
    return outcome!.value;
  }

  /**
   * Classifies a micro-batch of images: each one's inputs are read and named against the gallery
   * on its own, then the face index is written for all of them in one transaction (multi-row
   * writes, neighbour queries for every face at once; FaceIndex.writeTransaction), with the same
   * names and clusters as one image after another. Each image has its own outcome, in input
   * order: an image whose inputs are bad fails alone with its typed error; when the batch's
   * transaction fails, its images are written again one at a time, so only the image at fault
   * fails (a database that is unavailable fails them all: each is retried).
   */
  async handleBatch(items: readonly { data: ClassifyJobData; ctx?: Pick<StageContext, 'log'> }[]): Promise<PromiseSettledResult<ResultDocument>[]> {
    const { index } = this.deps;
    const prepared = await Promise.allSettled(items.map((item) => this.#prepare(item.data, item.ctx)));
    const outcomes: PromiseSettledResult<ResultDocument>[] = prepared.map((p) => (p.status === 'rejected' ? p : { status: 'fulfilled', value: p.value.result }));
    if (index) {
      // One transaction per round of distinct images (a redelivered job may share a batch with its first delivery).
      const ready = prepared.flatMap((p, i) => (p.status === 'fulfilled' ? [{ i, p: p.value }] : []));
      for (const round of distinctRounds(ready, (x) => x.p.result.imageId)) {
        const written = await this.#indexAll(index, round.map((x) => x.p));
        round.forEach((x, k) => {
          const w = written[k]!;
          if (w.status === 'rejected') outcomes[x.i] = w;
          else {
            x.p.result.faces = w.value;
            index.noteWrites(Math.max(1, w.value.length));
          }
        });
      }
    }
    return Promise.all(
      outcomes.map(async (o, i): Promise<PromiseSettledResult<ResultDocument>> => {
        const p = prepared[i]!;
        if (o.status === 'rejected' || p.status === 'rejected') return o;
        try {
          return { status: 'fulfilled', value: await this.#finish(p.value, items[i]!.ctx) };
        } catch (reason) {
          return { status: 'rejected', reason };
        }
      }),
    );
  }

  /** Writes the images to the index in one transaction; when it fails, one at a time. Per image: its faces as named, or why not. */
  async #indexAll(index: FaceIndex, list: readonly Prepared[]): Promise<PromiseSettledResult<ResultFace[]>[]> {
    try {
      const faces = await index.writeTransaction((r) => this.#index(r, list));
      return faces.map((value) => ({ status: 'fulfilled', value }));
    } catch (reason) {
      if (list.length === 1 || (reason instanceof FacepipeError && reason.code === 'DATABASE_UNAVAILABLE')) return list.map(() => ({ status: 'rejected', reason }));
    }
    const out: PromiseSettledResult<ResultFace[]>[] = [];
    for (const p of list) out.push(...(await this.#indexAll(index, [p])));
    return out;
  }

  /** Inputs read and checked, faces named against the gallery: the result document before the index. */
  async #prepare(data: ClassifyJobData, ctx?: Pick<StageContext, 'log'>): Promise<Prepared> {
    const { store, gallery, index } = this.deps;
    const t0 = performance.now();
    const { facesDoc, embeddings, exactChipsKey } = await this.#inputs(data);
    if (embeddings) {
      // Faces erased on request are gone from faces.json; their slots stay (emptied) in the embeddings.
      const slots = facesDoc.faces.length + (facesDoc.erasedFaces?.length ?? 0);
      if (embeddings.embeddings.length !== slots) {
        throw new FacepipeError('INVALID_PAYLOAD', `${slots} faces but ${embeddings.embeddings.length} embeddings`);
      }
      const bad = embeddings.embeddings.findIndex((e) => !Array.isArray(e) || e.some((x) => typeof x !== 'number' || !Number.isFinite(x)));
      if (bad >= 0) throw new FacepipeError('INVALID_PAYLOAD', `the embedding of face ${bad} is not a list of finite numbers`);
    }
    const [namer, labels] = await Promise.all([
      gallery.current(),
      facesDoc.faces.length > 0 && !index ? store.getJson<LabelsDocument>(objectKeys.labels(data.imageId)) : Promise.resolve(undefined),
    ]);
    const comparable = namer.accepts(data.embedVersion);
    const faces: ResultFace[] = facesDoc.faces.map((face) => {
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
    return { data, result, t0, chipsKey: exactChipsKey };
  }

  /** The result document stored and the intermediates dropped, once the index holds the image. */
  async #finish({ data, result, t0, chipsKey }: Prepared, ctx?: Pick<StageContext, 'log'>): Promise<ResultDocument> {
    result.timings.classifyMs = Math.round(performance.now() - t0);
    result.timings.totalMs = Date.now() - data.enqueuedAt;
    await this.deps.outcomes.recordSuccess(result);
    await this.#dropIntermediates(data, chipsKey, ctx);
    return result;
  }

  /**
   * The detect and embed stages' outputs for this job: their documents, or once those were
   * consumed and deleted, the image's result document of the same versions, which holds the same
   * faces and embeddings (a re-classification after an enrollment, a re-index). `exactChipsKey`:
   * the detect stage's chips this job consumes, when its faces came from faces.json (from the
   * result, the chips named are the display rendition, which stays).
   */
  async #inputs(data: ClassifyJobData): Promise<{ facesDoc: FacesDocument; embeddings?: EmbeddingsDocument; exactChipsKey: string | null }> {
    const { store } = this.deps;
    const [facesDoc, embeddings] = await Promise.all([
      store.getJson<FacesDocument>(objectKeys.faces(data.imageId, data.detectVersion)),
      data.embedVersion === null ? undefined : store.getJson<EmbeddingsDocument>(objectKeys.embeddings(data.imageId, data.detectVersion, data.embedVersion)),
    ]);
    if (facesDoc && (data.embedVersion === null || embeddings)) return { facesDoc, embeddings, exactChipsKey: facesDoc.chipsKey };
    const earlier = intermediatesFromResult(await store.getJson<ResultDocument>(objectKeys.result(data.imageId)), data);
    if (earlier) return { ...earlier, exactChipsKey: null };
    // Objects facepipe stored itself: their loss is the system's failure, not the photo's.
    if (!facesDoc) throw storedObjectMissing(objectKeys.faces(data.imageId, data.detectVersion), `the faces document of ${data.imageId} (detect ${data.detectVersion})`);
    throw storedObjectMissing(objectKeys.embeddings(data.imageId, data.detectVersion, data.embedVersion!), `the embeddings of ${data.imageId} (embed ${data.embedVersion})`);
  }

  /**
   * faces.json and embeddings.json are consumed once the result holds what they held: deleting
   * them keeps derived storage to the chips and the result (docs/benchmarks.md, storage). Best
   * effort: one left behind (S3 down just now) costs bytes, never correctness.
   */
  async #dropIntermediates(data: ClassifyJobData, chipsKey: string | null, ctx?: Pick<StageContext, 'log'>): Promise<void> {
    const { store } = this.deps;
    const keys = [
      objectKeys.faces(data.imageId, data.detectVersion),
      ...(data.embedVersion === null ? [] : [objectKeys.embeddings(data.imageId, data.detectVersion, data.embedVersion)]),
      // The exact chips, once embed wrote their display rendition (the result's crops).
      ...(data.chipsView && chipsKey ? [chipsKey] : []),
    ];
    const outcomes = await Promise.allSettled(keys.map((key) => store.delete(key)));
    const failed = outcomes.filter((o) => o.status === 'rejected').length;
    if (failed > 0) ctx?.log.debug('intermediate objects left behind', { failed });
  }

  /**
   * Names the faces from the index, writes the images and their faces, clusters the unnamed ones,
   * in the caller's transaction, which holds the index's write lock from its start (names and
   * clusters decided on a library no other writer changes meanwhile). Images are written in
   * rounds: an image whose write changes the example faces (a face named by hand or enrolled,
   * now or before) ends its round, so every image is named on the index as one image after
   * another would find it.
   */
  async #index(r: FaceIndexRepositories, list: readonly Prepared[]): Promise<ResultFace[][]> {
    const out: ResultFace[][] = [];
    const hadExamples = await r.faces.imagesWithReferences(list.map((p) => p.result.imageId));
    let pending = list;
    while (pending.length > 0) {
      const names = await this.#namer.nameMany(
        r,
        pending.map(({ data, result }) => ({ imageId: result.imageId, embedVersion: data.embedVersion, faces: result.faces.map((f) => ({ ...f, qualityOk: f.qualityGate === undefined })) })),
      );
      const cut = pending.findIndex((p, i) => hadExamples.has(p.result.imageId) || names[i]!.some((n) => n.source === 'hand' || n.source === 'enrolled'));
      const size = cut < 0 ? pending.length : cut + 1;
      const round = pending.slice(0, size);
      await r.images.upsertMany(round.map(({ data, result }) => imageRow(result, data.embedVersion)));
      const rows = round.map(({ data, result }, i) => {
        const embedded = data.embedVersion !== null ? result.faces.filter((f) => f.embedding.length > 0) : [];
        return embedded.map((f): FaceToIndex => {
          const n = names[i]![result.faces.indexOf(f)]!;
          return {
            faceIndex: f.index, box: f.box, score: f.score, quality: searchQuality(f, result), embedding: f.embedding, personId: n.personId, personSource: n.source, matchDistance: n.distance,
            qualityOk: f.qualityGate === undefined, suggestion: n.suggestion ? { personId: n.suggestion.personId, distance: n.suggestion.distance } : null,
          };
        });
      });
      const written = await r.faces.replaceImagesFaces(round.map(({ data, result }, i) => ({ imageId: result.imageId, embedVersion: data.embedVersion ?? '', embeddingModel: result.faces[0]?.embeddingModel ?? '', faces: rows[i]! })));
      // Unnamed faces that passed the gate, in arrival order, clustered per embedding version.
      const byVersion = new Map<string, BatchFace[]>();
      round.forEach(({ data, result }, i) => {
        if (data.embedVersion === null) return;
        const faces = written[i]!.flatMap((w, k) => (rows[i]![k]!.personId === null && rows[i]![k]!.personSource === null && rows[i]![k]!.qualityOk !== false ? [{ ...w, imageId: result.imageId }] : []));
        byVersion.set(data.embedVersion, [...(byVersion.get(data.embedVersion) ?? []), ...faces]);
      });
      for (const [version, faces] of byVersion) await r.clusterer.placeBatch(version, faces);
      round.forEach(({ result }, i) => out.push(result.faces.map((f, k) => withIndexedName(f, names[i]![k]!))));
      pending = pending.slice(size);
    }
    return out;
  }
}

/** One image between reading its inputs and writing the index. */
interface Prepared {
  data: ClassifyJobData;
  result: ResultDocument;
  t0: number;
  /** The exact chips the detect stage stored (raw RGB now, lossless WebP before) that this job consumed, or null. */
  chipsKey: string | null;
}

/** The items in rounds in which no key appears twice, each round in input order (a repeat waits for the next round). */
function distinctRounds<T>(items: readonly T[], key: (item: T) => string): T[][] {
  const rounds: T[][] = [];
  const roundOf = new Map<string, number>();
  for (const item of items) {
    const k = key(item);
    const r = (roundOf.get(k) ?? -1) + 1;
    roundOf.set(k, r);
    (rounds[r] ??= []).push(item);
  }
  return rounds;
}

function imageRow(result: ResultDocument, embedVersion: string | null): IndexedImage {
  return {
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
  };
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
