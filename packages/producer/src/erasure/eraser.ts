import {
  FacepipeError,
  isImageId,
  isPersonName,
  objectKeys,
  stageNames,
  type Box,
  type EnrollmentReport,
  type FacesDocument,
  type EmbeddingsDocument,
  type GalleryDocument,
  type LabelsDocument,
  type Logger,
  type ManifestEntry,
  type ObjectStore,
  type PipelineQueues,
  type ResultDocument,
  redisKeys,
} from '@facepipe/core';
import { noRows, type ErasableFace, type ErasedRows, type FaceIndex } from '@facepipe/face-index';
import { blankChipRows, blankRawChips } from '@facepipe/vision';
import type { Redis } from 'ioredis';
import { ErasureLog, erasureRef, type ErasureCounts, type ErasureRecord } from './erasure-log.js';

export interface EraserDeps {
  store: ObjectStore;
  /** The deployment's Redis (the queues' connection). */
  redis: Redis;
  /** Redis key prefix (FACEPIPE_REDIS_PREFIX). */
  prefix: string;
  queues: PipelineQueues;
  /** The face index, when the deployment has one. */
  index?: FaceIndex;
  log?: Logger;
}

/** `photos`: the person, their faces, and every photo only they appear in. `faces`: the person and their faces; every photo stays. */
export type PersonErasureMode = 'photos' | 'faces';
export const personErasureModes: readonly PersonErasureMode[] = ['photos', 'faces'];

/** What an erasure did. */
export interface ErasureOutcome {
  record: ErasureRecord;
  /** Photos erased whole. */
  imagesErased: number;
  /** Photos that stay with the person's faces removed (person erasures). */
  imagesKept: number;
}

/** Job states in which a job is still to run or running: erasing then would race the pipeline. */
const liveJobStates = new Set(['active', 'waiting', 'delayed', 'prioritized', 'waiting-children']);
/** Overlap at which a face of another detector run is taken for an erased face. */
const SAME_FACE_IOU = 0.5;

/**
 * Erases images and people completely (GDPR art. 17, BIPA): the original and every derived
 * object of every version (faces, chips, embeddings, result, labels, gallery membership; batch
 * manifests and enrollment reports rewritten without them; gallery versions rewritten without
 * their embeddings and rebuilt), the face index rows (image, faces, examples, hand labels,
 * clusters left empty; then VACUUM so no dead tuple keeps them), and Redis (the remembered
 * outcome, stashed results, every job of every pipeline version and its events). Afterwards the
 * same bytes are new to facepipe. Each erasure is logged without the erased data (ErasureLog).
 *
 * Checks come first: a bad id or name, a person who does not exist, or an image still being
 * processed (IMAGE_BUSY) erases nothing. Every step is idempotent, so erasing twice is fine and
 * an erasure cut short (S3 down) is finished by asking again.
 */
export class Eraser {
  readonly log: ErasureLog;

  constructor(readonly deps: EraserDeps) {
    this.log = new ErasureLog(deps.store);
  }

  /** Erases one image and everything derived from it. */
  async eraseImage(imageId: string, actor: string): Promise<ErasureOutcome> {
    if (!isImageId(imageId)) throw new FacepipeError('INVALID_PAYLOAD', `"${imageId}" is not an image id (64 lowercase hex digits: the sha256 of the photo)`);
    const jobs = await this.#checkIdle([imageId]);
    const counts = await this.#eraseImages([imageId], jobs);
    const record = await this.log.append({ actor, kind: 'image', subjectRef: erasureRef('image', imageId), counts });
    this.deps.log?.info('image erased', { erasure: record.id, ...counts });
    return { record, imagesErased: counts.images, imagesKept: 0 };
  }

  /**
   * Erases a person: their row, examples, hand labels, gallery membership and every face of
   * theirs; with `photos`, also every photo in which all faces are theirs (the others keep their
   * other faces). Needs the face index.
   */
  async erasePerson(name: string, mode: PersonErasureMode, actor: string): Promise<ErasureOutcome> {
    if (!isPersonName(name)) throw new FacepipeError('INVALID_PAYLOAD', `"${name}" is not a valid name`);
    if (!personErasureModes.includes(mode)) throw new FacepipeError('INVALID_PAYLOAD', `erase mode: one of ${personErasureModes.join(', ')}`);
    const index = this.#index();
    const person = await index.repos.people.byName(name);
    if (!person) throw new FacepipeError('OBJECT_NOT_FOUND', `nobody is called "${name}" (see facepipe people)`);
    const faces = await index.repos.erasure.facesOfPerson(person.id);
    const imageIds = [...new Set(faces.map((f) => f.imageId))];
    const whole = mode === 'photos' ? await index.repos.erasure.imagesOnlyOf(person.id, imageIds) : new Set<string>();
    const jobs = await this.#checkIdle(imageIds);
    const wholeIds = imageIds.filter((id) => whole.has(id));
    const counts = await this.#eraseImages(wholeIds, jobs);
    const kept = faces.filter((f) => !whole.has(f.imageId));
    add(counts, await this.#eraseFaces(kept, person.name, jobs));
    // The person last: their examples and labels on photos that stay, their gallery entries.
    const rows = await index.writeTransaction((r) => r.erasure.erasePerson(person.id));
    counts.rows += sumRows(rows);
    add(counts, await this.#scrubGalleries({ imageIds: new Set(wholeIds), person: person.name }));
    for await (const o of this.deps.store.list(objectKeys.galleryMemberPrefix(person.name))) {
      await this.deps.store.delete(o.key);
      counts.objectsDeleted += 1;
    }
    add(counts, await this.#scrubBatches(new Set(wholeIds), person.name));
    await this.#vacuum();
    const record = await this.log.append({ actor, kind: 'person', mode, subjectRef: erasureRef('person', person.name), counts });
    this.deps.log?.info('person erased', { erasure: record.id, mode, ...counts });
    return { record, imagesErased: wholeIds.length, imagesKept: new Set(kept.map((f) => f.imageId)).size };
  }

  /**
   * The retention rule: erases photos processed more than `days` days ago in which no face was
   * named, labelled or enrolled (strangers nobody confirmed). Images still in the pipeline wait
   * for the next run. Needs the face index.
   */
  async expireStrangers(days: number, actor: string, pageSize = 500): Promise<ErasureOutcome> {
    if (!(days > 0)) throw new FacepipeError('INVALID_PAYLOAD', 'retention: a number of days above 0');
    const index = this.#index();
    const before = new Date(Date.now() - days * 86_400_000);
    const total: ErasureCounts = zeroCounts();
    const erased: string[] = [];
    let after = '';
    for (;;) {
      const page = await index.repos.erasure.strangerImagesBefore(before, after, pageSize);
      if (page.length === 0) break;
      after = page[page.length - 1]!;
      const idle: string[] = [];
      const jobs = new Map<string, { stage: string; jobId: string }[]>();
      for (const id of page) {
        try {
          jobs.set(id, (await this.#checkIdle([id])).get(id) ?? []);
          idle.push(id);
        } catch (err) {
          if (!(err instanceof FacepipeError && err.code === 'IMAGE_BUSY')) throw err;
        }
      }
      add(total, await this.#eraseImages(idle, jobs, { vacuum: false, batches: false }));
      erased.push(...idle);
    }
    if (erased.length > 0) {
      // One pass over manifests and galleries for the whole run.
      add(total, await this.#scrubBatches(new Set(erased)));
      await this.#vacuum();
    }
    const record = await this.log.append({ actor, kind: 'retention', rule: `unconfirmed strangers after ${days} d`, counts: total });
    this.deps.log?.info('retention run', { erasure: record.id, ...total });
    return { record, imagesErased: erased.length, imagesKept: 0 };
  }

  #index(): FaceIndex {
    if (!this.deps.index) throw new FacepipeError('DATABASE_UNAVAILABLE', 'erasing a person needs the face index (DATABASE_URL)');
    return this.deps.index;
  }

  /** The stage jobs of these images (any pipeline version); IMAGE_BUSY when one is still to run or running. */
  async #checkIdle(imageIds: readonly string[]): Promise<Map<string, { stage: string; jobId: string }[]>> {
    const out = new Map<string, { stage: string; jobId: string }[]>();
    for (const imageId of imageIds) {
      const jobs: { stage: string; jobId: string }[] = [];
      for (const stage of stageNames) {
        const queueKey = this.deps.queues.byName(stage).keys['']!; // the queue's job keys: <prefix>:<queue>:<jobId>
        for (const key of await this.#scan(`${queueKey}???_${imageId}_*`)) {
          const jobId = key.slice(queueKey.length);
          if (jobId.includes(':')) continue; // a job's :logs and such go with the job
          const state = await this.deps.queues.byName(stage).getJobState(jobId);
          if (liveJobStates.has(state)) throw new FacepipeError('IMAGE_BUSY', `image ${imageId} is being processed (${stage} job ${state}); nothing was erased: erase it once it is done`);
          jobs.push({ stage, jobId });
        }
      }
      out.set(imageId, jobs);
    }
    return out;
  }

  async #eraseImages(
    imageIds: readonly string[],
    jobs: Map<string, { stage: string; jobId: string }[]>,
    options: { vacuum?: boolean; batches?: boolean } = {},
  ): Promise<ErasureCounts> {
    const counts = zeroCounts();
    if (imageIds.length === 0) return counts;
    const { store } = this.deps;
    // The index first: from here on no library read or search shows the images.
    const ids = new Set(imageIds);
    for (const id of imageIds) {
      let found = false;
      if (this.deps.index) {
        const rows = await this.deps.index.writeTransaction((r) => r.erasure.eraseImage(id));
        counts.rows += sumRows(rows);
        counts.faces += rows.faces;
        found = rows.images > 0;
      }
      const keys = [objectKeys.original(id), objectKeys.result(id), objectKeys.labels(id)];
      for (const prefix of [`faces/${id}/`, `embeddings/${id}/`]) for await (const o of store.list(prefix)) keys.push(o.key);
      for (const key of keys) {
        if ((await store.head(key)) === undefined) continue;
        await store.delete(key);
        counts.objectsDeleted += 1;
        found = true;
      }
      const redis = await this.#eraseRedis(id, jobs.get(id) ?? []);
      counts.redis += redis;
      if (found || redis > 0) counts.images += 1;
    }
    for await (const o of store.list(objectKeys.galleryMembersPrefix)) {
      const imageId = o.key.slice(o.key.lastIndexOf('/') + 1).replace(/\.json$/, '');
      if (!ids.has(imageId)) continue;
      await store.delete(o.key);
      counts.objectsDeleted += 1;
    }
    add(counts, await this.#scrubGalleries({ imageIds: ids }));
    if (options.batches !== false) add(counts, await this.#scrubBatches(ids));
    if (options.vacuum !== false) await this.#vacuum();
    return counts;
  }

  /** Removes an image's remembered outcome (and its id in their order), stashed result, jobs (with their logs) and their entries in the queues' event streams. */
  async #eraseRedis(imageId: string, jobs: readonly { stage: string; jobId: string }[]): Promise<number> {
    const { redis, prefix } = this.deps;
    const keys = redisKeys(prefix);
    let n = await redis.del(keys.image(imageId), keys.imageWaiters(imageId));
    n += await redis.hdel(keys.stashedResults, imageId);
    // Its place in the order remembered outcomes are forgotten in (O(list), at most FACEPIPE_REMEMBER_DONE_MAX ids).
    n += await redis.lrem(keys.rememberedDone, 0, imageId);
    return n + (await this.#dropJobs(imageId, jobs));
  }

  /** Removes an image's finished jobs (their return values copy its result) and their events. */
  async #dropJobs(imageId: string, jobs: readonly { stage: string; jobId: string }[]): Promise<number> {
    const { queues } = this.deps;
    let n = 0;
    for (const { stage, jobId } of jobs) {
      const queue = queues.byName(stage as (typeof stageNames)[number]);
      if ((await queue.getJobState(jobId)) !== 'unknown') {
        await queue.remove(jobId);
        n += 1;
      }
    }
    for (const stage of stageNames) n += await this.#dropStreamEntries(queues.byName(stage).keys.events!, imageId);
    return n;
  }

  /** Deletes the entries of a stream that mention `needle` (BullMQ's events name job ids). */
  async #dropStreamEntries(key: string, needle: string): Promise<number> {
    const { redis } = this.deps;
    let start = '-';
    let dropped = 0;
    for (;;) {
      const page = await redis.xrange(key, start, '+', 'COUNT', 1000);
      if (page.length === 0) break;
      const hits = page.filter(([, fields]) => fields.some((f) => f.includes(needle))).map(([id]) => id);
      if (hits.length > 0) dropped += await redis.xdel(key, ...hits);
      if (page.length < 1000) break;
      start = `(${page[page.length - 1]![0]}`;
    }
    return dropped;
  }

  async #scan(pattern: string): Promise<string[]> {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await this.deps.redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      keys.push(...batch);
      cursor = next;
    } while (cursor !== '0');
    return keys;
  }

  /**
   * Removes faces of photos that stay: index rows, then in S3 their entries in faces.json and the
   * result and labels documents, their chips (blanked) and embeddings (emptied), every version.
   */
  async #eraseFaces(faces: readonly ErasableFace[], person: string, jobs: Map<string, { stage: string; jobId: string }[]>): Promise<ErasureCounts> {
    const counts = zeroCounts();
    if (faces.length === 0) return counts;
    const { store } = this.deps;
    counts.rows += sumRows(await this.#index().writeTransaction((r) => r.erasure.eraseFaces(faces)));
    counts.faces += faces.length;
    const byImage = new Map<string, Box[]>();
    for (const f of faces) byImage.set(f.imageId, [...(byImage.get(f.imageId) ?? []), f.box as Box]);
    for (const [imageId, boxes] of byImage) {
      counts.redis += await this.#dropJobs(imageId, jobs.get(imageId) ?? []);
      const erased = (box: Box) => boxes.some((b) => iou(b, box) >= SAME_FACE_IOU);
      /** Chips object → rows to blank. */
      const chipRows = new Map<string, Set<number>>();
      const blank = (key: string | null | undefined, rows: readonly number[]) => {
        if (key) chipRows.set(key, new Set([...(chipRows.get(key) ?? []), ...rows]));
      };
      for await (const o of store.list(`faces/${imageId}/`)) {
        if (!o.key.endsWith('/faces.json')) continue;
        const doc = await store.getJson<FacesDocument>(o.key);
        if (!doc) continue;
        const gone = doc.faces.filter((f) => erased(f.box)).map((f) => f.index);
        if (gone.length === 0) continue;
        const detectVersion = o.key.split('/')[2]!;
        await store.putJson(o.key, { ...doc, faces: doc.faces.filter((f) => !gone.includes(f.index)), erasedFaces: [...new Set([...(doc.erasedFaces ?? []), ...gone])].sort((a, b) => a - b) }, { intermediate: true });
        counts.objectsRewritten += 1;
        blank(doc.chipsKey, gone);
        // The display rendition the embed stage writes beside them (once embedded).
        blank(objectKeys.chipsView(imageId, detectVersion), gone);
        for await (const e of store.list(`embeddings/${imageId}/${detectVersion}/`)) {
          const emb = await store.getJson<EmbeddingsDocument>(e.key);
          if (!emb) continue;
          await store.putJson(e.key, { ...emb, embeddings: emb.embeddings.map((v, i) => (gone.includes(i) ? [] : v)) }, { intermediate: true });
          counts.objectsRewritten += 1;
        }
      }
      const result = await store.getJson<ResultDocument>(objectKeys.result(imageId));
      if (result && result.faces.some((f) => erased(f.box))) {
        const kept = result.faces.filter((f) => !erased(f.box));
        for (const f of result.faces) if (erased(f.box)) blank(f.cropKey, [f.cropIndex]);
        await store.putJson(objectKeys.result(imageId), { ...result, faces: kept, faceCount: kept.length });
        counts.objectsRewritten += 1;
      }
      for (const [key, rows] of chipRows) {
        if (!(await store.head(key))) continue;
        const stored = await store.getBytes(key);
        if (key.endsWith('.rgb')) {
          // The exact chips (raw RGB), an intermediate: tagged to expire, as the detect stage wrote them.
          await store.put(key, blankRawChips(stored, [...rows]), { contentType: 'application/octet-stream', intermediate: true });
        } else {
          // Images: the display rendition, or the exact chips of earlier versions (WebP, PNG).
          await store.put(key, await blankChipRows(stored, [...rows]), { contentType: key.endsWith('.webp') ? 'image/webp' : 'image/png', intermediate: key.endsWith('/chips.webp') });
        }
        counts.objectsRewritten += 1;
      }
      const labels = await store.getJson<LabelsDocument>(objectKeys.labels(imageId));
      if (labels && labels.faces.some((l) => l.name === person || erased(l.box))) {
        await store.putJson(objectKeys.labels(imageId), { ...labels, faces: labels.faces.filter((l) => l.name !== person && !erased(l.box)) });
        counts.objectsRewritten += 1;
      }
    }
    return counts;
  }

  /**
   * Rewrites every gallery version without the erased images' faces (and the person), its
   * classifier dropped (it was trained on them), and queues a rebuild so classify workers load a
   * gallery made without them.
   */
  async #scrubGalleries(what: { imageIds: ReadonlySet<string>; person?: string }): Promise<ErasureCounts> {
    const counts = zeroCounts();
    const { store } = this.deps;
    let changed = false;
    for await (const o of store.list('gallery/versions/')) {
      const doc = await store.getJson<GalleryDocument>(o.key);
      if (!doc) continue;
      const people = doc.people
        .filter((p) => p.name !== what.person)
        .map((p) => ({ ...p, faces: p.faces.filter((f) => !what.imageIds.has(f.imageId)) }))
        .filter((p) => p.faces.length > 0);
      const skipped = doc.skipped.filter((s) => s.person !== what.person && !what.imageIds.has(s.imageId));
      const faces = (d: { people: { faces: unknown[] }[] }) => d.people.reduce((n, p) => n + p.faces.length, 0);
      if (people.length === doc.people.length && faces({ people }) === faces(doc) && skipped.length === doc.skipped.length) continue;
      await store.putJson(o.key, { ...doc, people, skipped, svm: null });
      counts.objectsRewritten += 1;
      changed = true;
    }
    if (changed) await this.deps.queues.addGalleryBuild({ kind: 'rebuild', reason: 'erasure' });
    return counts;
  }

  /** Rewrites batch manifests and enrollment reports: erased images' entries say ERASED, with no source; the person's name goes. */
  async #scrubBatches(imageIds: ReadonlySet<string>, person?: string): Promise<ErasureCounts> {
    const counts = zeroCounts();
    const { store } = this.deps;
    const mentions = (text: string) => [...imageIds].some((id) => text.includes(id)) || (person !== undefined && text.includes(JSON.stringify(person)));
    for await (const o of store.list('batches/')) {
      if (person !== undefined && o.key.endsWith('/batch.json')) {
        // An enrollment batch's source names the person it enrolled (in S3 and in Redis).
        const batch = await store.getJson<{ id: string; source: string }>(o.key);
        if (!batch || !batch.source.includes(person)) continue;
        await store.putJson(o.key, { ...batch, source: '(erased)' });
        counts.objectsRewritten += 1;
        const batchKey = redisKeys(this.deps.prefix).batch(batch.id);
        if ((await this.deps.redis.hexists(batchKey, 'source')) === 1) {
          await this.deps.redis.hset(batchKey, 'source', '(erased)');
          counts.redis += 1;
        }
        continue;
      }
      const isManifest = o.key.includes('/manifest/');
      if (!isManifest && !o.key.endsWith('/enrollment.json')) continue;
      const text = (await store.getBytes(o.key)).toString('utf8');
      if (!mentions(text)) continue;
      if (isManifest) {
        const lines = text.split('\n').filter((l) => l.trim() !== '').map((l) => {
          const entry = JSON.parse(l) as ManifestEntry;
          if (entry.imageId !== null && imageIds.has(entry.imageId)) return JSON.stringify({ index: entry.index, source: '', imageId: null, error: { code: 'ERASED', message: 'erased on request' } } satisfies ManifestEntry);
          if (person !== undefined && entry.person === person) return JSON.stringify({ ...entry, person: undefined });
          return l;
        });
        await store.put(o.key, `${lines.join('\n')}\n`, { contentType: 'application/x-ndjson' });
      } else {
        const report = JSON.parse(text) as EnrollmentReport;
        await store.putJson(o.key, { ...report, items: report.items.filter((i) => i.person !== person && !(i.imageId !== null && imageIds.has(i.imageId))) });
      }
      counts.objectsRewritten += 1;
    }
    return counts;
  }

  async #vacuum(): Promise<void> {
    await this.deps.index?.repos.erasure.vacuum().catch((err: Error) => this.deps.log?.warn('vacuum after erasure failed', { err: err.message }));
  }
}

function zeroCounts(): ErasureCounts {
  return { images: 0, faces: 0, objectsDeleted: 0, objectsRewritten: 0, rows: 0, redis: 0 };
}

function add(into: ErasureCounts, more: ErasureCounts): void {
  for (const k of Object.keys(into) as (keyof ErasureCounts)[]) into[k] += more[k];
}

function sumRows(rows: ErasedRows): number {
  const r = { ...noRows(), ...rows };
  return r.images + r.faces + r.examples + r.labels + r.people + r.clusters;
}

function iou(a: Box, b: Box): number {
  const x1 = Math.max(a[0], b[0]);
  const y1 = Math.max(a[1], b[1]);
  const x2 = Math.min(a[0] + a[2], b[0] + b[2]);
  const y2 = Math.min(a[1] + a[3], b[1] + b[3]);
  const inter = Math.max(0, x2 - x1) * Math.max(0, y2 - y1);
  const union = a[2] * a[3] + b[2] * b[3] - inter;
  return union > 0 ? inter / union : 0;
}
