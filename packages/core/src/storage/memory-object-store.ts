import { Readable } from 'node:stream';
import { FacepipeError } from '../errors/index.js';
import type { BucketSetup, ObjectInfo, ObjectStore, PutOptions } from './object-store.js';

/** An in-memory {@link ObjectStore} for unit tests of stage logic (integration tests use S3). */
export class MemoryObjectStore implements ObjectStore {
  readonly bucket: string;
  readonly objects = new Map<string, { bytes: Buffer; contentType?: string; lastModified: Date; intermediate?: boolean }>();
  /** Other buckets, for copyFrom. */
  readonly foreign = new Map<string, Map<string, Buffer>>();

  constructor(bucket = 'memory') {
    this.bucket = bucket;
  }

  /** Nothing expires here: intermediates are only marked (`objects.get(key).intermediate`). */
  async ensureBucket(): Promise<BucketSetup> {
    return { intermediateExpiry: 'off' };
  }

  async getBytes(key: string): Promise<Buffer> {
    const found = this.objects.get(key);
    if (!found) throw new FacepipeError('OBJECT_NOT_FOUND', `get ${key}: not found`);
    return found.bytes;
  }

  async getStream(key: string): Promise<Readable> {
    return Readable.from([await this.getBytes(key)]);
  }

  async getJson<T>(key: string): Promise<T | undefined> {
    const found = this.objects.get(key);
    return found ? (JSON.parse(found.bytes.toString('utf8')) as T) : undefined;
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    const found = this.objects.get(key);
    return found ? { key, size: found.bytes.length, contentType: found.contentType, lastModified: found.lastModified } : undefined;
  }

  async put(key: string, body: Buffer | Uint8Array | string | Readable, options: PutOptions = {}): Promise<void> {
    let bytes: Buffer;
    if (typeof body === 'string') bytes = Buffer.from(body, 'utf8');
    else if (body instanceof Readable) {
      const chunks: Buffer[] = [];
      for await (const chunk of body) chunks.push(Buffer.from(chunk as Uint8Array));
      bytes = Buffer.concat(chunks);
    } else bytes = Buffer.from(body);
    this.objects.set(key, { bytes, contentType: options.contentType, lastModified: new Date(), ...(options.intermediate ? { intermediate: true } : {}) });
  }

  async putJson(key: string, value: unknown, options: Pick<PutOptions, 'intermediate'> = {}): Promise<void> {
    await this.put(key, JSON.stringify(value), { contentType: 'application/json', ...options });
  }

  async delete(key: string): Promise<void> {
    this.objects.delete(key);
  }

  async *list(prefix: string, options: { startAfter?: string } = {}): AsyncIterable<ObjectInfo> {
    const keys = [...this.objects.keys()].filter((k) => k.startsWith(prefix)).sort();
    for (const key of keys) {
      if (options.startAfter !== undefined && key <= options.startAfter) continue;
      const info = await this.head(key);
      if (info) yield info;
    }
  }

  async copyFrom(sourceBucket: string, sourceKey: string, key: string): Promise<void> {
    const bytes = sourceBucket === this.bucket ? (await this.getBytes(sourceKey)) : this.foreign.get(sourceBucket)?.get(sourceKey);
    if (!bytes) throw new FacepipeError('OBJECT_NOT_FOUND', `copy ${sourceBucket}/${sourceKey}: not found`);
    await this.put(key, bytes);
  }

  async close(): Promise<void> {}
}
