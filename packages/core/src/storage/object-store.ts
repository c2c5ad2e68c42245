import type { Readable } from 'node:stream';

/** Metadata of a stored object. */
export interface ObjectInfo {
  key: string;
  size: number;
  etag?: string;
  lastModified?: Date;
  contentType?: string;
}

export interface PutOptions {
  contentType?: string;
  /** Required by S3 when the body is a stream of unknown length; set it when you know it. */
  contentLength?: number;
  cacheControl?: string;
  /**
   * A stage's intermediate object, deleted by the stage that consumes it: tagged
   * `facepipe-lifecycle=intermediate` so the bucket's lifecycle rule expires it should nothing
   * consume it (docs/benchmarks.md, storage).
   * @defaultValue false
   */
  intermediate?: boolean;
}

/** The tag on intermediate objects, and the bucket lifecycle rule that expires them. */
export const intermediateTag = { key: 'facepipe-lifecycle', value: 'intermediate', ruleId: 'facepipe-intermediates' } as const;

/**
 * What {@link ObjectStore.ensureBucket} found of the expiry of intermediates: the rule `set` now,
 * `kept` as it was, `off` (not asked for), or `unsupported` by the server (`detail` says why;
 * intermediates are then written untagged and only the consuming stage deletes them).
 */
export interface BucketSetup {
  intermediateExpiry: 'set' | 'kept' | 'off' | 'unsupported';
  detail?: string;
}

/**
 * The storage "repository": every read and write of originals, crops, embeddings, results and
 * the gallery goes through this interface, so stage logic can be unit-tested with
 * {@link MemoryObjectStore} and run against S3 in production.
 */
export interface ObjectStore {
  readonly bucket: string;
  /** Creates the bucket when it does not exist, and the lifecycle rule for intermediates. */
  ensureBucket(): Promise<BucketSetup>;
  /** Whole object; throws FacepipeError OBJECT_NOT_FOUND when absent. */
  getBytes(key: string): Promise<Buffer>;
  /** Object as a stream; throws OBJECT_NOT_FOUND when absent. */
  getStream(key: string): Promise<Readable>;
  /** Parsed JSON, or undefined when absent. */
  getJson<T>(key: string): Promise<T | undefined>;
  /** Metadata, or undefined when absent. */
  head(key: string): Promise<ObjectInfo | undefined>;
  put(key: string, body: Buffer | Uint8Array | string | Readable, options?: PutOptions): Promise<void>;
  putJson(key: string, value: unknown, options?: Pick<PutOptions, 'intermediate'>): Promise<void>;
  delete(key: string): Promise<void>;
  /** Keys under a prefix, in lexical order, fetched a page at a time. */
  list(prefix: string, options?: { startAfter?: string; pageSize?: number }): AsyncIterable<ObjectInfo>;
  /** Server-side copy from any bucket the credentials can read. */
  copyFrom(sourceBucket: string, sourceKey: string, key: string): Promise<void>;
  /** Releases connections; idempotent. */
  close(): Promise<void>;
}
