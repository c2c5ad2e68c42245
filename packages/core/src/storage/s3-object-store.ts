import { Readable } from 'node:stream';
import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteObjectCommand,
  GetBucketLifecycleConfigurationCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsCommand,
  PutBucketLifecycleConfigurationCommand,
  PutObjectCommand,
  S3Client,
  type LifecycleRule,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import type { FacepipeConfig } from '../config/index.js';
import { FacepipeError, storageFullReason } from '../errors/index.js';
import { intermediateTag, type BucketSetup, type ObjectInfo, type ObjectStore, type PutOptions } from './object-store.js';
import { S3HttpClient } from './s3-http-client.js';
import { quietSdkNodeVersionNotice } from './sdk-node-notice.js';

export interface S3ObjectStoreOptions {
  bucket: string;
  region: string;
  endpoint?: string;
  forcePathStyle?: boolean;
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /**
   * Attempts per request (the SDK's standard retry mode with exponential backoff and jitter).
   * @defaultValue 5
   */
  maxAttempts?: number;
  /**
   * Pauses before reading a JSON document again when what came back does not parse. S3 itself
   * replaces objects atomically, but some S3-compatible servers (s3rver among them) serve a
   * document while it is still being written; the retries ride that out, and a document that
   * still does not parse is a typed, retryable storage error rather than a crash.
   * @defaultValue [25, 100, 400]
   */
  jsonRereadDelaysMs?: readonly number[];
  /**
   * What sends the single-object requests (get, put of bytes, head, delete): `light` is
   * facepipe's {@link S3HttpClient} (Node's HTTP client, SigV4, a fraction of the SDK's CPU per
   * request); `sdk` sends everything through the AWS SDK. Listings, copies, streams and bucket
   * creation always use the SDK, and so do credentials (the SDK's provider chain) either way.
   * @defaultValue "light"
   */
  requestClient?: 'light' | 'sdk';
  /**
   * Days after which intermediate objects ({@link PutOptions.intermediate}) that nothing consumed
   * expire: they are tagged, and {@link S3ObjectStore.ensureBucket} keeps a lifecycle rule for
   * the tag on the bucket. 0 = no tag, no rule.
   * @defaultValue 7
   */
  intermediateExpiryDays?: number;
}

/** The query form of the intermediates' tag, as x-amz-tagging carries it. */
const intermediateTagging = `${intermediateTag.key}=${intermediateTag.value}`;

/**
 * Why a server answered a lifecycle request with an error (it does not serve them, these
 * credentials may not make them, it wants the request otherwise: S3-compatible servers differ),
 * or undefined when no server answered. A worker starts either way: the rule is a safety net.
 */
function lifecycleRefusal(err: unknown): string | undefined {
  if (!(err instanceof S3ServiceException)) return undefined;
  const status = err.$metadata?.httpStatusCode;
  if (err.name === 'NotImplemented' || status === 501) return 'the server does not implement bucket lifecycle rules';
  if (err.name === 'AccessDenied' || status === 403) return 'the credentials may not read or write the bucket lifecycle (s3:GetLifecycleConfiguration, s3:PutLifecycleConfiguration)';
  return `the server refused the lifecycle request (${err.name}${status ? `, HTTP ${status}` : ''}: ${err.message})`;
}

/** The same rule, whatever order or defaults the server wrote it back with. */
function sameRule(a: LifecycleRule | undefined, days: number): boolean {
  return (
    a?.Status === 'Enabled' &&
    a.Expiration?.Days === days &&
    a.Filter?.Tag?.Key === intermediateTag.key &&
    a.Filter.Tag.Value === intermediateTag.value &&
    !a.Filter.Prefix &&
    !a.Filter.And
  );
}
function isNotFound(err: unknown): boolean {
  if (err instanceof S3ServiceException) {
    return err.name === 'NoSuchKey' || err.name === 'NotFound' || err.$metadata?.httpStatusCode === 404;
  }
  return false;
}

/** Maps SDK errors to typed ones: missing objects are permanent, the rest transient. */
function storageError(err: unknown, action: string, key: string): FacepipeError {
  if (err instanceof FacepipeError) return err;
  if (isNotFound(err)) return new FacepipeError('OBJECT_NOT_FOUND', `${action} ${key}: not found`, { cause: err });
  const message = err instanceof Error ? err.message : String(err);
  if (storageFullReason(err) !== undefined) return new FacepipeError('STORAGE_FULL', `${action} ${key}: ${message}`, { cause: err });
  return new FacepipeError('STORAGE_UNAVAILABLE', `${action} ${key}: ${message}`, { cause: err });
}

/** {@link ObjectStore} over any S3-compatible service with the AWS SDK v3. */
export class S3ObjectStore implements ObjectStore {
  readonly bucket: string;
  readonly client: S3Client;
  /** Single-object requests, unless `requestClient` is "sdk". */
  readonly #light: S3HttpClient | undefined;
  readonly #jsonRereadDelaysMs: readonly number[];
  readonly #expiryDays: number;
  /** Whether intermediates are tagged: off when not asked for, or when the server refused the rule. */
  #tagIntermediates: boolean;
  #closed = false;

  /** The store a deployment's S3 settings name (another bucket, e.g. an `s3://` ingest source, when given). */
  static fromConfig(s3: FacepipeConfig['s3'], bucket = s3.bucket): S3ObjectStore {
    return new S3ObjectStore({
      bucket,
      region: s3.region,
      endpoint: s3.endpoint,
      forcePathStyle: s3.forcePathStyle,
      credentials: s3.credentials,
      requestClient: s3.requestClient,
      intermediateExpiryDays: s3.intermediateExpiryDays,
    });
  }

  constructor(options: S3ObjectStoreOptions) {
    this.bucket = options.bucket;
    this.#jsonRereadDelaysMs = options.jsonRereadDelaysMs ?? [25, 100, 400];
    this.#expiryDays = options.intermediateExpiryDays ?? 7;
    this.#tagIntermediates = this.#expiryDays > 0;
    quietSdkNodeVersionNotice();
    this.client = new S3Client({
      region: options.region,
      endpoint: options.endpoint,
      forcePathStyle: options.forcePathStyle ?? options.endpoint !== undefined,
      credentials: options.credentials,
      maxAttempts: options.maxAttempts ?? 5,
      // s3rver and older MinIO reject the SDK's default CRC32 checksums on streamed bodies.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
    if ((options.requestClient ?? 'light') === 'light') {
      const credentials = this.client.config.credentials;
      this.#light = new S3HttpClient({
        bucket: options.bucket,
        region: options.region,
        endpoint: options.endpoint,
        forcePathStyle: options.forcePathStyle ?? options.endpoint !== undefined,
        credentials: () => credentials(),
        maxAttempts: options.maxAttempts ?? 5,
      });
    }
  }

  async ensureBucket(): Promise<BucketSetup> {
    await this.#ensureBucketExists();
    return this.#ensureIntermediateExpiry();
  }

  async #ensureBucketExists(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
      return;
    } catch (err) {
      if (!isNotFound(err) && !(err instanceof S3ServiceException && err.name === 'NoSuchBucket')) {
        throw storageError(err, 'head bucket', this.bucket);
      }
    }
    try {
      await this.client.send(new CreateBucketCommand({ Bucket: this.bucket }));
    } catch (err) {
      // Another process may have created it between our HEAD and CREATE.
      if (err instanceof S3ServiceException && /BucketAlreadyOwnedByYou|BucketAlreadyExists/.test(err.name)) return;
      throw storageError(err, 'create bucket', this.bucket);
    }
  }

  /**
   * The bucket's lifecycle rule for intermediates, merged into whatever rules the bucket has
   * (S3 replaces the whole configuration on a put, so the others are written back unchanged).
   * A server that refuses lifecycle rules turns the tags off for this store: nothing else changes.
   */
  async #ensureIntermediateExpiry(): Promise<BucketSetup> {
    if (this.#expiryDays === 0) return { intermediateExpiry: 'off' };
    let rules: LifecycleRule[];
    try {
      rules = (await this.client.send(new GetBucketLifecycleConfigurationCommand({ Bucket: this.bucket }))).Rules ?? [];
    } catch (err) {
      if (err instanceof S3ServiceException && err.name === 'NoSuchLifecycleConfiguration') rules = [];
      else {
        const refusal = lifecycleRefusal(err);
        if (refusal === undefined) throw storageError(err, 'get lifecycle of', this.bucket);
        this.#tagIntermediates = false;
        return { intermediateExpiry: 'unsupported', detail: refusal };
      }
    }
    const ours = rules.find((r) => r.ID === intermediateTag.ruleId);
    if (sameRule(ours, this.#expiryDays)) return { intermediateExpiry: 'kept' };
    const rule: LifecycleRule = {
      ID: intermediateTag.ruleId,
      Status: 'Enabled',
      Filter: { Tag: { Key: intermediateTag.key, Value: intermediateTag.value } },
      Expiration: { Days: this.#expiryDays },
    };
    try {
      await this.client.send(
        new PutBucketLifecycleConfigurationCommand({
          Bucket: this.bucket,
          LifecycleConfiguration: { Rules: [...rules.filter((r) => r.ID !== intermediateTag.ruleId), rule] },
        }),
      );
    } catch (err) {
      const refusal = lifecycleRefusal(err);
      if (refusal === undefined) throw storageError(err, 'put lifecycle of', this.bucket);
      this.#tagIntermediates = false;
      return { intermediateExpiry: 'unsupported', detail: refusal };
    }
    return { intermediateExpiry: 'set' };
  }

  async getBytes(key: string): Promise<Buffer> {
    if (this.#light) {
      const bytes = await this.#light.get(key);
      if (!bytes) throw new FacepipeError('OBJECT_NOT_FOUND', `get ${key}: not found`);
      return bytes;
    }
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      if (!out.Body) throw new FacepipeError('STORAGE_UNAVAILABLE', `get ${key}: empty response body`);
      return Buffer.from(await out.Body.transformToByteArray());
    } catch (err) {
      throw storageError(err, 'get', key);
    }
  }

  async getStream(key: string): Promise<Readable> {
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      if (!(out.Body instanceof Readable)) throw new FacepipeError('STORAGE_UNAVAILABLE', `get ${key}: no stream body`);
      return out.Body;
    } catch (err) {
      throw storageError(err, 'get', key);
    }
  }

  async getJson<T>(key: string): Promise<T | undefined> {
    for (let attempt = 0; ; attempt++) {
      let bytes: Buffer;
      try {
        bytes = await this.getBytes(key);
      } catch (err) {
        if (err instanceof FacepipeError && err.code === 'OBJECT_NOT_FOUND') return undefined;
        throw err;
      }
      try {
        return JSON.parse(bytes.toString('utf8')) as T;
      } catch (err) {
        const delay = this.#jsonRereadDelaysMs[attempt];
        if (delay === undefined) {
          const reason = err instanceof Error ? err.message : String(err);
          throw new FacepipeError('STORAGE_UNAVAILABLE', `get ${key}: ${bytes.length} bytes that are not a JSON document after ${attempt + 1} reads (${reason})`, { cause: err });
        }
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    if (this.#light) return this.#light.head(key);
    try {
      const out = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return {
        key,
        size: out.ContentLength ?? 0,
        etag: out.ETag,
        lastModified: out.LastModified,
        contentType: out.ContentType,
      };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw storageError(err, 'head', key);
    }
  }

  async put(key: string, body: Buffer | Uint8Array | string | Readable, options: PutOptions = {}): Promise<void> {
    if (this.#light && !(body instanceof Readable)) {
      const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
      await this.#light.put(key, bytes, { contentType: options.contentType, cacheControl: options.cacheControl, tagging: this.#tagging(options) });
      return;
    }
    try {
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: body,
          ContentType: options.contentType,
          ContentLength: options.contentLength,
          CacheControl: options.cacheControl,
          Tagging: this.#tagging(options),
        }),
      );
    } catch (err) {
      throw storageError(err, 'put', key);
    }
  }

  async putJson(key: string, value: unknown, options: Pick<PutOptions, 'intermediate'> = {}): Promise<void> {
    await this.put(key, JSON.stringify(value), { contentType: 'application/json', ...options });
  }

  #tagging(options: PutOptions): string | undefined {
    return options.intermediate && this.#tagIntermediates ? intermediateTagging : undefined;
  }

  async delete(key: string): Promise<void> {
    if (this.#light) return this.#light.delete(key);
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch (err) {
      if (!isNotFound(err)) throw storageError(err, 'delete', key);
    }
  }

  /**
   * Pages with ListObjects (v1) and the last key as marker: every S3 implementation supports it,
   * while s3rver's v2 continuation tokens need a cipher OpenSSL 3 disables.
   */
  async *list(prefix: string, options: { startAfter?: string; pageSize?: number } = {}): AsyncIterable<ObjectInfo> {
    let marker = options.startAfter;
    for (;;) {
      let page;
      try {
        page = await this.client.send(new ListObjectsCommand({ Bucket: this.bucket, Prefix: prefix, Marker: marker, MaxKeys: options.pageSize }));
      } catch (err) {
        throw storageError(err, 'list', prefix);
      }
      const contents = page.Contents ?? [];
      for (const item of contents) {
        if (item.Key === undefined) continue;
        yield { key: item.Key, size: item.Size ?? 0, etag: item.ETag, lastModified: item.LastModified };
      }
      const last = contents.at(-1)?.Key;
      if (!page.IsTruncated || last === undefined) return;
      marker = last;
    }
  }

  async copyFrom(sourceBucket: string, sourceKey: string, key: string): Promise<void> {
    try {
      await this.client.send(
        new CopyObjectCommand({
          Bucket: this.bucket,
          Key: key,
          CopySource: `${sourceBucket}/${sourceKey.split('/').map(encodeURIComponent).join('/')}`,
        }),
      );
    } catch (err) {
      throw storageError(err, 'copy', `${sourceBucket}/${sourceKey}`);
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#light?.close();
    this.client.destroy();
  }
}
