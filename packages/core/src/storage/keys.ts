import { createHash } from 'node:crypto';

/** An image id is the sha256 of its bytes, in lowercase hex: the same bytes always get the same id. */
export const imageIdPattern = /^[0-9a-f]{64}$/;

export function isImageId(value: unknown): value is string {
  return typeof value === 'string' && imageIdPattern.test(value);
}

/** A short, stable tag for a set of versions/settings: the first 12 hex digits of their sha256. */
export function versionTag(parts: Record<string, unknown>): string {
  const canonical = JSON.stringify(Object.keys(parts).sort().map((k) => [k, parts[k]]));
  return createHash('sha256').update(canonical).digest('hex').slice(0, 12);
}

/** Person names: letters, digits, space, dot, underscore, apostrophe, hyphen; 1–100 characters. */
export const personNamePattern = /^[\p{L}\p{N}][\p{L}\p{N} ._'-]{0,99}$/u;

export function isPersonName(value: unknown): value is string {
  return typeof value === 'string' && personNamePattern.test(value) && value.trim() === value;
}

/** Batch ids: `b_` + time + random, sortable by creation. */
export const batchIdPattern = /^[A-Za-z0-9_-]{1,64}$/;

const personKey = (name: string) => encodeURIComponent(name);

/**
 * Every object key facepipe writes, in one place. Keys are derived from content hashes and
 * stage versions only, so retries and re-runs overwrite the same objects (idempotent stages).
 */
export const objectKeys = {
  /** The uploaded bytes, content-addressed. */
  original: (imageId: string) => `originals/${imageId.slice(0, 2)}/${imageId}`,
  /** Detections, landmarks and alignment for one image under one detect-stage version. */
  faces: (imageId: string, detectVersion: string) => `faces/${imageId}/${detectVersion}/faces.json`,
  /**
   * All aligned 150×150 chips of an image as raw 8-bit RGB, chip after chip (one request; no codec:
   * encoding and decoding lossless WebP cost ≈ 6.5 ms of CPU a face, docs/benchmarks.md). An
   * intermediate: classify deletes it once the embeddings and the display rendition exist.
   */
  chips: (imageId: string, detectVersion: string) => `faces/${imageId}/${detectVersion}/chips.rgb`,
  /** Where the previous versions kept the chips (lossless WebP, stacked); still read and erased. */
  previousChipsWebp: (imageId: string, detectVersion: string) => `faces/${imageId}/${detectVersion}/chips.webp`,
  /**
   * The same chips for display (lossy WebP, ~3 KB a face), written by the embed stage once the
   * exact chips are embedded; classify then deletes the exact ones (the result's `cropKey` is this).
   */
  chipsView: (imageId: string, detectVersion: string) => `faces/${imageId}/${detectVersion}/chips-view.webp`,
  /** Where versions before the lossless WebP kept the chips (PNG); still read and erased. */
  legacyChipsPng: (imageId: string, detectVersion: string) => `faces/${imageId}/${detectVersion}/chips.png`,
  /** The embeddings of those chips under one embed-stage version. */
  embeddings: (imageId: string, detectVersion: string, embedVersion: string) =>
    `embeddings/${imageId}/${detectVersion}/${embedVersion}.json`,
  /** The image's latest result document. */
  result: (imageId: string) => `results/${imageId}.json`,
  resultsPrefix: 'results/',
  /** Names given by people to faces of an image; never overwritten by the pipeline. */
  labels: (imageId: string) => `labels/${imageId}.json`,
  batch: (batchId: string) => `batches/${batchId}/batch.json`,
  batchManifestPart: (batchId: string, part: number) => `batches/${batchId}/manifest/${String(part).padStart(6, '0')}.jsonl`,
  batchManifestPrefix: (batchId: string) => `batches/${batchId}/manifest/`,
  enrollReport: (batchId: string) => `batches/${batchId}/enrollment.json`,
  /** Enrollment membership, independent of model versions: person → image. */
  galleryMember: (person: string, imageId: string) => `gallery/members/${personKey(person)}/${imageId}.json`,
  galleryMembersPrefix: 'gallery/members/',
  galleryMemberPrefix: (person: string) => `gallery/members/${personKey(person)}/`,
  /** A built gallery (embeddings + trained classifier) for one embed version. */
  galleryVersion: (version: number) => `gallery/versions/${String(version).padStart(8, '0')}.json`,
  /** Pointer to the current gallery version; classify workers poll it. */
  galleryCurrent: 'gallery/current.json',
} as const;

/**
 * Every Redis key facepipe writes itself (BullMQ's own keys live under `<prefix>:<queue>:`), in
 * one place beside {@link objectKeys}. The Lua script packages/core/lua/complete-image.lua builds the batch key
 * of a waiter as `<prefix>:batch:<id>`: keep the two in step.
 */
export const redisKeys = (prefix: string) => ({
  /** Sorted set of batch ids by creation time. */
  batches: `${prefix}:batches`,
  /** A batch's counts (hash); its items' outcomes are the bitmaps `…:done` and `…:failed`. */
  batch: (batchId: string) => `${prefix}:batch:${batchId}`,
  batchDone: (batchId: string) => `${prefix}:batch:${batchId}:done`,
  batchFailed: (batchId: string) => `${prefix}:batch:${batchId}:failed`,
  /** The next manifest part number of a batch (every writer of its manifest takes numbers here). */
  manifestParts: (batchId: string) => `${prefix}:manifest-part:${batchId}`,
  /** Held (with a short expiry, renewed) while a process admits inputs into the batch. */
  intakeLease: (batchId: string) => `${prefix}:intake:${batchId}`,
  /** What Redis remembers of an image, and the batch items waiting for it ("batchId:index"). */
  image: (imageId: string) => `${prefix}:img:${imageId}`,
  imageWaiters: (imageId: string) => `${prefix}:img:${imageId}:waiters`,
  /**
   * Ids of the images remembered as done, oldest first (a list): past FACEPIPE_REMEMBER_DONE_MAX
   * the oldest are forgotten. complete-image.lua builds their keys as `<prefix>:img:<id>`: keep in step.
   */
  rememberedDone: `${prefix}:remembered-done`,
  /** Result documents kept while S3 is unavailable. */
  stashedResults: `${prefix}:stashed-results`,
  /** The sweeper's lock, progress and requeue counts. */
  sweeper: (name: string) => `${prefix}:sweeper:${name}`,
  /** The gallery version classify workers load. */
  galleryVersion: `${prefix}:gallery:version`,
  /** API keys of the HTTP service. */
  apiKeys: `${prefix}:api-keys`,
  /** Registered webhooks (hash: id → registration). */
  webhooks: `${prefix}:webhooks`,
  /**
   * Pipeline events for webhooks (a stream; batch.finished, image.failed), appended by the batch
   * scripts (packages/core/lua/includes/mark.lua builds it as `<prefix>:events`: keep in step).
   */
  events: `${prefix}:events`,
});

/** Decodes the person name from a gallery member key. */
export function personFromMemberKey(key: string): string | undefined {
  const rest = key.slice(objectKeys.galleryMembersPrefix.length);
  const slash = rest.indexOf('/');
  return slash > 0 ? decodeURIComponent(rest.slice(0, slash)) : undefined;
}
