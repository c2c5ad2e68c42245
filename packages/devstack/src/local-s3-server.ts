import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, mkdirSync, readFileSync, existsSync, readFile as readFileCallback } from 'node:fs';
import { appendFile, mkdir, open, readdir, rename, rm, stat, unlink, copyFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { SigV4Rejection, SigV4Verifier } from '@facepipe/core';
import { expiredUnder, InvalidTagError, LifecycleConfigurationError, parseLifecycleConfiguration, parseTaggingHeader, parseTaggingXml, type ExpirationRule } from './bucket-lifecycle.js';

/** What the server remembers of an object (the bytes are in a file of their own). */
interface ObjectMeta {
  size: number;
  etag: string;
  contentType: string;
  modified: number;
  /** The object's tags (x-amz-tagging), when it has any. */
  tags?: Record<string, string>;
}

/** The index log's record of a put: key, size, etag, type, time, tags. */
const putRecord = (k: string, m: ObjectMeta) => ({ k, s: m.size, e: m.etag, t: m.contentType, m: m.modified, ...(m.tags ? { g: m.tags } : {}) });

interface Bucket {
  dir: string;
  objects: Map<string, ObjectMeta>;
  sorted: string[] | undefined;
  /** The lifecycle configuration as put (served back as is) and its rules; kept in `lifecycle.xml`. */
  lifecycle?: { xml: string; rules: ExpirationRule[] };
}

export interface LocalS3ServerOptions {
  /** Folder the buckets are stored under (created when missing). */
  directory: string;
  /** The only access key accepted. @defaultValue "facepipe" */
  accessKeyId?: string;
  /**
   * The secret every request's SigV4 signature is verified with (a request not signed with it
   * gets 403). @defaultValue a random one made for this server (read it from {@link LocalS3Server.secretAccessKey})
   */
  secretAccessKey?: string;
  /** Largest object accepted, bytes. @defaultValue 5 GiB */
  maxObjectBytes?: number;
  /**
   * How often objects are checked against the buckets' lifecycle rules and expired ones deleted
   * (S3 itself runs its rules about once a day), the first time at start; 0 = only on
   * {@link LocalS3Server.expireNow}.
   * @defaultValue 3600000 (an hour)
   */
  lifecycleSweepMs?: number;
  /** The clock objects are dated and expired by (tests move it forward). @defaultValue Date.now */
  now?: () => number;
}

const xmlEscape = (s: string) => s.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!);
/** Objects up to this size are served from one file read rather than a stream. */
const SMALL_OBJECT_BYTES = 1 << 20;
const bucketName = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

class S3Error extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly resource?: string,
  ) {
    super(message);
  }
}

/**
 * A small S3-protocol server over HTTP that stores objects as files: the embedded object store
 * of `facepipe run` when no S3_ENDPOINT is given. Path-style requests, the operations facepipe
 * and the usual tools need (buckets, put/get/head/delete, copy, ListObjects v1/v2 with prefix,
 * marker and delimiter, multi-object delete, ranges, aws-chunked uploads, object tags, bucket
 * lifecycle rules whose expirations a sweep applies, so intermediates expire here as on S3). It
 * answers a request in well under a millisecond of CPU, where s3rver needs several.
 *
 * Layout: `<directory>/<bucket>/data/<2 hex>/<sha1 of key>` holds each object's bytes;
 * `<directory>/<bucket>/index.jsonl` is an append-only log of puts and deletes (key, size,
 * etag, type, time, tags), replayed and compacted at start; `<bucket>/lifecycle.xml` the rules. One server process per directory.
 * Every request must carry an AWS SigV4 signature (header or presigned query) made with the
 * server's secret; it is verified with core's SigV4 code, and a request that is unsigned, signed
 * with another key or secret, or stale gets 403 with S3's error code. A body whose SHA-256 was
 * signed must match it. (Chunk signatures of aws-chunked uploads are not checked one by one: the
 * seed signature covers the request, and a replay needs the traffic, which loopback keeps
 * to this machine's root.)
 */
export class LocalS3Server {
  readonly #opts: Required<LocalS3ServerOptions>;
  readonly #verifier: SigV4Verifier;
  readonly #buckets = new Map<string, Bucket>();
  #server: Server | undefined;
  #closing: Promise<void> | undefined;
  /** Data folders known to exist (saves a mkdir per put). */
  readonly #dirs = new Set<string>();
  /** Index appends are chained per bucket so log lines never interleave. */
  readonly #appendChain = new Map<string, Promise<void>>();
  readonly #tmpPrefix = randomBytes(4).toString('hex');
  #tmpCounter = 0;
  /** Index records waiting for the append after the running one, per bucket. */
  readonly #appendQueue = new Map<string, { lines: string[]; done: Promise<void> }>();
  /** Buckets whose last index append failed: the next one starts on a fresh line (a torn line stays alone). */
  readonly #tornIndex = new Set<string>();
  /** Objects whose bytes did not match their index record on read, answered as missing. */
  #tornReads = 0;
  #sweepTimer: NodeJS.Timeout | undefined;
  #sweeping: Promise<number> | undefined;

  constructor(options: LocalS3ServerOptions) {
    this.#opts = { accessKeyId: 'facepipe', secretAccessKey: randomBytes(24).toString('base64url'), maxObjectBytes: 5 * 1024 ** 3, lifecycleSweepMs: 3_600_000, now: Date.now, ...options };
    mkdirSync(this.#opts.directory, { recursive: true, mode: 0o700 });
    const { accessKeyId, secretAccessKey } = this.#opts;
    this.#verifier = new SigV4Verifier({ secretFor: (id) => (id === accessKeyId ? secretAccessKey : undefined) });
  }

  get accessKeyId(): string {
    return this.#opts.accessKeyId;
  }

  get secretAccessKey(): string {
    return this.#opts.secretAccessKey;
  }

  /** Reads whose bytes did not match the size or hash recorded at the put (answered 404, never served). */
  get tornReads(): number {
    return this.#tornReads;
  }

  /** Loads the buckets found in the directory and starts listening; resolves with the endpoint URL. */
  async start(port = 0, host = '127.0.0.1'): Promise<string> {
    for (const entry of await readdir(this.#opts.directory, { withFileTypes: true })) {
      if (entry.isDirectory() && bucketName.test(entry.name)) await this.#loadBucket(entry.name);
    }
    this.#server = createServer((req, res) => {
      this.#handle(req, res).catch((err: unknown) => this.#sendError(res, asS3Error(err)));
    });
    this.#server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve, reject) => {
      this.#server!.once('error', reject);
      this.#server!.listen(port, host, () => resolve());
    });
    if (this.#opts.lifecycleSweepMs > 0) {
      const sweep = () => void this.expireNow().catch((err: unknown) => process.stderr.write(`embedded S3: lifecycle sweep failed: ${String(err)}\n`));
      this.#sweepTimer = setInterval(sweep, this.#opts.lifecycleSweepMs);
      this.#sweepTimer.unref();
      // Once at start too: `facepipe run` lives minutes, and would otherwise never reach a sweep.
      sweep();
    }
    const address = this.#server.address();
    const actualPort = typeof address === 'object' && address ? address.port : port;
    return `http://${host}:${actualPort}`;
  }

  /**
   * Deletes every object a bucket's lifecycle rules say has expired; resolves with how many. Runs
   * on its own every `lifecycleSweepMs`; one sweep at a time, yielding to requests as it goes.
   */
  expireNow(): Promise<number> {
    this.#sweeping ??= this.#sweep().finally(() => {
      this.#sweeping = undefined;
    });
    return this.#sweeping;
  }

  async #sweep(): Promise<number> {
    const now = this.#opts.now();
    let expired = 0;
    for (const [name, b] of this.#buckets) {
      const rules = b.lifecycle?.rules.filter((r) => r.enabled && (r.days !== undefined || r.date !== undefined));
      if (!rules?.length) continue;
      const due: string[] = [];
      let seen = 0;
      for (const [key, meta] of b.objects) {
        if (expiredUnder(rules, key, meta.tags, meta.modified, now)) due.push(key);
        // A million objects is a long loop: let requests in between.
        if (++seen % 5000 === 0) await new Promise((resolve) => setImmediate(resolve));
      }
      for (const key of due) {
        if (this.#closing) return expired;
        // Put again since the check (a newer object under the key): not this object any more.
        const meta = b.objects.get(key);
        if (!meta || !expiredUnder(rules, key, meta.tags, meta.modified, now)) continue;
        await this.#delete(name, b, key);
        expired += 1;
      }
    }
    return expired;
  }

  close(): Promise<void> {
    clearInterval(this.#sweepTimer);
    this.#closing ??= new Promise<void>((resolve) => {
      if (!this.#server) return resolve();
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    })
      .then(() => this.#sweeping?.catch(() => undefined))
      .then(() => Promise.all(this.#appendChain.values()).then(() => undefined));
    return this.#closing;
  }

  async #loadBucket(name: string): Promise<Bucket> {
    const dir = join(this.#opts.directory, name);
    const objects = new Map<string, ObjectMeta>();
    const indexPath = join(dir, 'index.jsonl');
    if (existsSync(indexPath)) {
      for (const line of readFileSync(indexPath, 'utf8').split('\n')) {
        if (!line) continue;
        try {
          const rec = JSON.parse(line) as { k: string; d?: 1 } & Partial<{ s: number; e: string; t: string; m: number; g: Record<string, string> }>;
          if (rec.d) objects.delete(rec.k);
          else objects.set(rec.k, { size: rec.s!, etag: rec.e!, contentType: rec.t!, modified: rec.m!, ...(rec.g ? { tags: rec.g } : {}) });
        } catch {
          // A torn last line after a crash: ignore it.
        }
      }
      // Compact: one line per live object.
      const compacted = [...objects].map(([k, m]) => JSON.stringify(putRecord(k, m))).join('\n');
      try {
        await writeDurably(`${indexPath}.tmp`, indexPath, Buffer.from(compacted ? `${compacted}\n` : ''));
      } catch (err) {
        // A full disk at start: the log as it is replays to the same objects; compact next time.
        if (!isDiskFull(err)) throw err;
      }
    }
    const bucket: Bucket = { dir, objects, sorted: undefined };
    const lifecyclePath = join(dir, 'lifecycle.xml');
    if (existsSync(lifecyclePath)) {
      const xml = readFileSync(lifecyclePath, 'utf8');
      try {
        bucket.lifecycle = { xml, rules: parseLifecycleConfiguration(xml) };
      } catch (err) {
        // Only a hand edit gets here (a put is checked before it is written): say which file.
        if (err instanceof LifecycleConfigurationError) throw new Error(`embedded S3: ${lifecyclePath} is not a lifecycle configuration the store can apply (${err.message}); fix or delete it`);
        throw err;
      }
    }
    this.#buckets.set(name, bucket);
    return bucket;
  }

  #bucket(name: string): Bucket {
    const bucket = this.#buckets.get(name);
    if (!bucket) throw new S3Error(404, 'NoSuchBucket', 'The specified bucket does not exist', name);
    return bucket;
  }

  #dataPath(bucket: Bucket, key: string): string {
    const h = createHash('sha1').update(key).digest('hex');
    return join(bucket.dir, 'data', h.slice(0, 2), h);
  }

  async #ensureDir(dir: string): Promise<void> {
    if (this.#dirs.has(dir)) return;
    await mkdir(dir, { recursive: true });
    this.#dirs.add(dir);
  }

  /** A unique name beside `path` for writing before the rename (this process owns the directory). */
  #tmpPath(path: string): string {
    this.#tmpCounter += 1;
    return `${path}.${this.#tmpPrefix}${this.#tmpCounter.toString(36)}.tmp`;
  }

  /**
   * Appends a record to the bucket's index log. Records that arrive while an append is running
   * go out together in the next one: one write per burst, not per object.
   */
  #log(bucketName: string, bucket: Bucket, record: object): Promise<void> {
    const line = `${JSON.stringify(record)}\n`;
    const queued = this.#appendQueue.get(bucketName);
    if (queued) {
      queued.lines.push(line);
      return queued.done;
    }
    const batch = { lines: [line], done: Promise.resolve() };
    batch.done = (this.#appendChain.get(bucketName) ?? Promise.resolve()).then(async () => {
      this.#appendQueue.delete(bucketName);
      const fresh = this.#tornIndex.delete(bucketName) ? '\n' : '';
      try {
        await appendFile(join(bucket.dir, 'index.jsonl'), fresh + batch.lines.join(''));
      } catch (err) {
        // Part of the lines may have landed: whatever comes next starts on a line of its own, and
        // the unparseable fragment is skipped at the next start.
        this.#tornIndex.add(bucketName);
        throw err;
      }
    });
    this.#appendQueue.set(bucketName, batch);
    this.#appendChain.set(bucketName, batch.done.catch(() => undefined));
    return batch.done;
  }

  /** Verifies the request's SigV4 signature; returns the signed payload hash. */
  #authorise(req: IncomingMessage): string {
    try {
      return this.#verifier.verify({ method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers }).payloadHash;
    } catch (err) {
      if (err instanceof SigV4Rejection) throw new S3Error(403, err.code, err.message);
      throw err;
    }
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://local');
    const payloadHash = this.#authorise(req);
    const [, bucket = '', ...rest] = url.pathname.split('/');
    const key = decodeURIComponent(rest.join('/'));
    const name = decodeURIComponent(bucket);
    if (!name) {
      if (req.method === 'GET') return this.#listBuckets(res);
      throw new S3Error(405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.');
    }
    if (!key) return this.#bucketRequest(req, res, name, url);
    const b = this.#bucket(name);
    if (url.searchParams.has('tagging')) return this.#tagging(req, res, name, b, key);
    switch (req.method) {
      case 'PUT':
        return req.headers['x-amz-copy-source'] ? this.#copy(req, res, name, b, key) : this.#put(req, res, name, b, key, payloadHash);
      case 'GET':
      case 'HEAD':
        return this.#get(req, res, b, key);
      case 'DELETE':
        await this.#delete(name, b, key);
        res.writeHead(204).end();
        return;
      default:
        throw new S3Error(405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.');
    }
  }

  async #bucketRequest(req: IncomingMessage, res: ServerResponse, name: string, url: URL): Promise<void> {
    if (url.searchParams.has('lifecycle')) return this.#lifecycle(req, res, name);
    const unsupported = unsupportedBucketSubresources.find((s) => url.searchParams.has(s));
    if (unsupported) {
      await drain(req);
      throw new S3Error(501, 'NotImplemented', `The embedded store does not implement the bucket's ${unsupported} configuration.`, name);
    }
    switch (req.method) {
      case 'PUT': {
        await drain(req);
        if (!bucketName.test(name)) throw new S3Error(400, 'InvalidBucketName', 'The specified bucket is not valid.', name);
        if (!this.#buckets.has(name)) {
          await mkdir(join(this.#opts.directory, name, 'data'), { recursive: true });
          await this.#loadBucket(name);
        }
        res.writeHead(200, { Location: `/${name}` }).end();
        return;
      }
      case 'HEAD':
        this.#bucket(name);
        res.writeHead(200).end();
        return;
      case 'GET':
        if (url.searchParams.has('location')) {
          this.#bucket(name);
          return sendXml(res, 200, '<LocationConstraint xmlns="http://s3.amazonaws.com/doc/2006-03-01/"/>');
        }
        return this.#list(res, name, url);
      case 'POST':
        if (url.searchParams.has('delete')) return this.#deleteMany(req, res, name);
        break;
      case 'DELETE': {
        const b = this.#bucket(name);
        if (b.objects.size > 0) throw new S3Error(409, 'BucketNotEmpty', 'The bucket you tried to delete is not empty', name);
        await rm(b.dir, { recursive: true, force: true });
        this.#buckets.delete(name);
        for (const d of this.#dirs) if (d.startsWith(b.dir)) this.#dirs.delete(d);
        res.writeHead(204).end();
        return;
      }
    }
    throw new S3Error(405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.');
  }

  #listBuckets(res: ServerResponse): void {
    const items = [...this.#buckets.keys()].sort().map((n) => `<Bucket><Name>${xmlEscape(n)}</Name><CreationDate>${new Date(0).toISOString()}</CreationDate></Bucket>`);
    sendXml(res, 200, `<ListAllMyBucketsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Owner><ID>facepipe</ID></Owner><Buckets>${items.join('')}</Buckets></ListAllMyBucketsResult>`);
  }

  async #put(req: IncomingMessage, res: ServerResponse, name: string, b: Bucket, key: string, payloadHash: string): Promise<void> {
    let body = await readBody(req, this.#opts.maxObjectBytes);
    if (/^[0-9a-f]{64}$/.test(payloadHash) && createHash('sha256').update(body).digest('hex') !== payloadHash) {
      throw new S3Error(400, 'XAmzContentSHA256Mismatch', "The provided 'x-amz-content-sha256' header does not match what was computed.");
    }
    const tags = tagsHeader(req);
    const sha = String(req.headers['x-amz-content-sha256'] ?? '');
    if (sha.startsWith('STREAMING-') || String(req.headers['content-encoding'] ?? '').includes('aws-chunked')) body = decodeAwsChunked(body);
    const etag = `"${createHash('md5').update(body).digest('hex')}"`;
    const path = this.#dataPath(b, key);
    const tmp = this.#tmpPath(path);
    await this.#ensureDir(join(path, '..'));
    // Written aside, flushed to disk and renamed into place, so a reader (or a restart after a
    // crash) sees the old object or the new one, never half of one; a full disk fails the put
    // with 507 and leaves nothing behind.
    await writeDurably(tmp, path, body);
    const meta: ObjectMeta = { size: body.length, etag, contentType: String(req.headers['content-type'] ?? 'application/octet-stream'), modified: this.#opts.now(), ...(tags ? { tags } : {}) };
    if (!b.objects.has(key)) b.sorted = undefined;
    b.objects.set(key, meta);
    await this.#log(name, b, putRecord(key, meta));
    res.writeHead(200, { ETag: etag }).end();
  }

  async #copy(req: IncomingMessage, res: ServerResponse, name: string, b: Bucket, key: string): Promise<void> {
    await drain(req);
    const source = decodeURIComponent(String(req.headers['x-amz-copy-source']).replace(/^\//, '').split('?')[0]!);
    const slash = source.indexOf('/');
    const from = this.#bucket(source.slice(0, slash));
    const fromKey = source.slice(slash + 1);
    const meta = from.objects.get(fromKey);
    if (!meta) throw new S3Error(404, 'NoSuchKey', 'The specified key does not exist.', fromKey);
    const path = this.#dataPath(b, key);
    const tmp = this.#tmpPath(path);
    await this.#ensureDir(join(path, '..'));
    try {
      await copyFile(this.#dataPath(from, fromKey), tmp);
      const handle = await open(tmp, 'r+');
      await handle.sync().finally(() => handle.close());
      await rename(tmp, path);
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      throw err;
    }
    // S3 copies the source's tags unless the request replaces them.
    const replaced = String(req.headers['x-amz-tagging-directive'] ?? '').toUpperCase() === 'REPLACE';
    const { tags: sourceTags, ...rest } = meta;
    const tags = replaced ? tagsHeader(req) : sourceTags;
    const copied: ObjectMeta = { ...rest, modified: this.#opts.now(), ...(tags ? { tags } : {}) };
    if (!b.objects.has(key)) b.sorted = undefined;
    b.objects.set(key, copied);
    await this.#log(name, b, putRecord(key, copied));
    sendXml(res, 200, `<CopyObjectResult><LastModified>${new Date(copied.modified).toISOString()}</LastModified><ETag>${xmlEscape(copied.etag)}</ETag></CopyObjectResult>`);
  }

  async #get(req: IncomingMessage, res: ServerResponse, b: Bucket, key: string): Promise<void> {
    const meta = b.objects.get(key);
    if (!meta) throw new S3Error(404, 'NoSuchKey', 'The specified key does not exist.', key);
    const headers: Record<string, string | number> = {
      'Content-Type': meta.contentType,
      ETag: meta.etag,
      'Last-Modified': new Date(meta.modified).toUTCString(),
      'Accept-Ranges': 'bytes',
      ...(meta.tags ? { 'x-amz-tagging-count': Object.keys(meta.tags).length } : {}),
    };
    let start = 0;
    let end = meta.size - 1;
    let status = 200;
    const range = /^bytes=(\d*)-(\d*)$/.exec(String(req.headers.range ?? ''));
    if (range && meta.size > 0) {
      if (range[1] === '') start = Math.max(0, meta.size - Number(range[2]));
      else {
        start = Number(range[1]);
        if (range[2] !== '') end = Math.min(end, Number(range[2]));
      }
      if (start > end || start >= meta.size) throw new S3Error(416, 'InvalidRange', 'The requested range is not satisfiable');
      status = 206;
      headers['Content-Range'] = `bytes ${start}-${end}/${meta.size}`;
    }
    headers['Content-Length'] = meta.size === 0 ? 0 : end - start + 1;
    if (req.method === 'HEAD' || meta.size === 0) {
      res.writeHead(status, headers).end();
      return;
    }
    if (meta.size <= SMALL_OBJECT_BYTES) {
      // Crops and JSON documents: one read, one write, no stream machinery. The bytes are checked
      // against the size and MD5 recorded at the put: a torn or lost file is reported missing.
      const bytes = await new Promise<Buffer | undefined>((resolve, reject) =>
        readFileCallback(this.#dataPath(b, key), (err, data) => (err ? (err.code === 'ENOENT' ? resolve(undefined) : reject(err)) : resolve(data))),
      );
      if (!bytes || bytes.length !== meta.size || `"${createHash('md5').update(bytes).digest('hex')}"` !== meta.etag) throw this.#torn(key, meta, bytes?.length);
      res.writeHead(status, headers).end(status === 206 ? bytes.subarray(start, end + 1) : bytes);
      return;
    }
    const onDisk = await stat(this.#dataPath(b, key)).catch(() => undefined);
    if (onDisk?.size !== meta.size) throw this.#torn(key, meta, onDisk?.size);
    res.writeHead(status, headers);
    await new Promise<void>((resolve, reject) => {
      const stream = createReadStream(this.#dataPath(b, key), { start, end });
      stream.on('error', reject);
      res.on('close', () => resolve());
      stream.pipe(res);
    });
  }

  /** GetBucketLifecycleConfiguration, PutBucketLifecycleConfiguration, DeleteBucketLifecycle. */
  async #lifecycle(req: IncomingMessage, res: ServerResponse, name: string): Promise<void> {
    const b = this.#bucket(name);
    const path = join(b.dir, 'lifecycle.xml');
    switch (req.method) {
      case 'GET':
        if (!b.lifecycle) throw new S3Error(404, 'NoSuchLifecycleConfiguration', 'The lifecycle configuration does not exist', name);
        res.writeHead(200, { 'Content-Type': 'application/xml', 'Content-Length': Buffer.byteLength(b.lifecycle.xml) }).end(b.lifecycle.xml);
        return;
      case 'PUT': {
        const xml = (await readBody(req, 1024 * 1024)).toString('utf8');
        let rules: ExpirationRule[];
        try {
          rules = parseLifecycleConfiguration(xml);
        } catch (err) {
          if (err instanceof LifecycleConfigurationError) throw new S3Error(400, 'MalformedXML', `The lifecycle configuration is not valid: ${err.message}`, name);
          throw err;
        }
        await writeDurably(this.#tmpPath(path), path, Buffer.from(xml));
        b.lifecycle = { xml, rules };
        res.writeHead(200).end();
        return;
      }
      case 'DELETE':
        await rm(path, { force: true });
        delete b.lifecycle;
        res.writeHead(204).end();
        return;
    }
    throw new S3Error(405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.');
  }

  /** GetObjectTagging, PutObjectTagging, DeleteObjectTagging. */
  async #tagging(req: IncomingMessage, res: ServerResponse, name: string, b: Bucket, key: string): Promise<void> {
    const meta = b.objects.get(key);
    if (!meta) {
      await drain(req);
      throw new S3Error(404, 'NoSuchKey', 'The specified key does not exist.', key);
    }
    let tags: Record<string, string> | undefined;
    switch (req.method) {
      case 'GET': {
        const set = Object.entries(meta.tags ?? {}).map(([k, v]) => `<Tag><Key>${xmlEscape(k)}</Key><Value>${xmlEscape(v)}</Value></Tag>`);
        return sendXml(res, 200, `<Tagging xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><TagSet>${set.join('')}</TagSet></Tagging>`);
      }
      case 'PUT': {
        const xml = (await readBody(req, 64 * 1024)).toString('utf8');
        tags = tagsOr400(() => parseTaggingXml(xml));
        break;
      }
      case 'DELETE':
        await drain(req);
        tags = undefined;
        break;
      default:
        throw new S3Error(405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.');
    }
    // Tags change, the object does not: same bytes, same date (lifecycle counts from creation).
    const { tags: _old, ...rest } = meta;
    const updated: ObjectMeta = { ...rest, ...(tags ? { tags } : {}) };
    b.objects.set(key, updated);
    await this.#log(name, b, putRecord(key, updated));
    res.writeHead(req.method === 'DELETE' ? 204 : 200).end();
  }

  #torn(key: string, meta: ObjectMeta, found: number | undefined): S3Error {
    this.#tornReads += 1;
    process.stderr.write(`embedded S3: ${key} is recorded with ${meta.size} bytes but ${found === undefined ? 'no file' : `${found} bytes that do not match`} is on disk; answered as missing\n`);
    return new S3Error(404, 'NoSuchKey', 'The specified key does not exist (its stored bytes are incomplete).', key);
  }

  async #delete(name: string, b: Bucket, key: string): Promise<void> {
    if (!b.objects.has(key)) return;
    b.objects.delete(key);
    b.sorted = undefined;
    await rm(this.#dataPath(b, key), { force: true });
    await this.#log(name, b, { k: key, d: 1 });
  }

  async #deleteMany(req: IncomingMessage, res: ServerResponse, name: string): Promise<void> {
    const b = this.#bucket(name);
    const xml = (await readBody(req, 10 * 1024 * 1024)).toString('utf8');
    const keys = [...xml.matchAll(/<Key>([\s\S]*?)<\/Key>/g)].map((m) => unescapeXml(m[1]!));
    for (const key of keys) await this.#delete(name, b, key);
    const quiet = /<Quiet>true<\/Quiet>/.test(xml);
    sendXml(res, 200, `<DeleteResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${quiet ? '' : keys.map((k) => `<Deleted><Key>${xmlEscape(k)}</Key></Deleted>`).join('')}</DeleteResult>`);
  }

  #list(res: ServerResponse, name: string, url: URL): void {
    const b = this.#bucket(name);
    const q = url.searchParams;
    const v2 = q.get('list-type') === '2';
    const prefix = q.get('prefix') ?? '';
    const delimiter = q.get('delimiter') ?? '';
    const maxKeys = Math.min(1000, Math.max(0, Number(q.get('max-keys') ?? 1000) || 0));
    const token = q.get('continuation-token');
    const after = v2 ? (token ? Buffer.from(token, 'base64url').toString('utf8') : (q.get('start-after') ?? '')) : (q.get('marker') ?? '');
    b.sorted ??= [...b.objects.keys()].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
    const keys = b.sorted;
    // First key after `after` and at or after `prefix`.
    const from = after > prefix ? after : prefix;
    let lo = 0;
    let hi = keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (keys[mid]! < from || (keys[mid] === after && after !== '')) lo = mid + 1;
      else hi = mid;
    }
    const contents: string[] = [];
    const prefixes: string[] = [];
    let count = 0;
    let last = '';
    let truncated = false;
    for (let i = lo; i < keys.length; i++) {
      const key = keys[i]!;
      if (!key.startsWith(prefix)) break;
      if (key <= after) continue;
      if (count >= maxKeys) {
        truncated = true;
        break;
      }
      if (delimiter) {
        const at = key.indexOf(delimiter, prefix.length);
        if (at >= 0) {
          const common = key.slice(0, at + delimiter.length);
          if (prefixes.at(-1) !== common) {
            prefixes.push(common);
            count += 1;
          }
          last = common;
          // Skip every key under this common prefix.
          while (i + 1 < keys.length && keys[i + 1]!.startsWith(common)) i++;
          last = keys[i]!;
          continue;
        }
      }
      const meta = b.objects.get(key)!;
      contents.push(
        `<Contents><Key>${xmlEscape(key)}</Key><LastModified>${new Date(meta.modified).toISOString()}</LastModified><ETag>${xmlEscape(meta.etag)}</ETag><Size>${meta.size}</Size><StorageClass>STANDARD</StorageClass></Contents>`,
      );
      count += 1;
      last = key;
    }
    const head = `<Name>${xmlEscape(name)}</Name><Prefix>${xmlEscape(prefix)}</Prefix>${delimiter ? `<Delimiter>${xmlEscape(delimiter)}</Delimiter>` : ''}<MaxKeys>${maxKeys}</MaxKeys><IsTruncated>${truncated}</IsTruncated>`;
    const paging = v2
      ? `<KeyCount>${count}</KeyCount>${token ? `<ContinuationToken>${xmlEscape(token)}</ContinuationToken>` : ''}${truncated ? `<NextContinuationToken>${Buffer.from(last).toString('base64url')}</NextContinuationToken>` : ''}`
      : `<Marker>${xmlEscape(after)}</Marker>${truncated ? `<NextMarker>${xmlEscape(last)}</NextMarker>` : ''}`;
    const common = prefixes.map((p) => `<CommonPrefixes><Prefix>${xmlEscape(p)}</Prefix></CommonPrefixes>`).join('');
    sendXml(res, 200, `<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${head}${paging}${contents.join('')}${common}</ListBucketResult>`);
  }

  #sendError(res: ServerResponse, err: S3Error): void {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const body = `<Error><Code>${err.code}</Code><Message>${xmlEscape(err.message)}</Message>${err.resource ? `<Resource>${xmlEscape(err.resource)}</Resource>` : ''}<RequestId>0</RequestId></Error>`;
    sendXml(res, err.status, body);
  }
}

/** Bucket configurations other than lifecycle: S3 has them, this store does not (501, never a listing). */
const unsupportedBucketSubresources = ['acl', 'cors', 'encryption', 'notification', 'object-lock', 'policy', 'replication', 'tagging', 'versioning', 'versions', 'website', 'uploads'];

/** The tags of a request's x-amz-tagging header (undefined without one or when empty). */
function tagsHeader(req: IncomingMessage): Record<string, string> | undefined {
  const header = req.headers['x-amz-tagging'];
  return header === undefined ? undefined : tagsOr400(() => parseTaggingHeader(String(header)));
}

/** Parsed tags (undefined when none), or 400 InvalidTag for what S3 would refuse. */
function tagsOr400(parse: () => Record<string, string>): Record<string, string> | undefined {
  try {
    const tags = parse();
    return Object.keys(tags).length > 0 ? tags : undefined;
  } catch (err) {
    if (err instanceof InvalidTagError) throw new S3Error(400, 'InvalidTag', err.message);
    throw err;
  }
}

/** errno codes of a file system that takes no more writes. */
const diskFullCodes = new Set(['ENOSPC', 'EDQUOT', 'EROFS']);

function isDiskFull(err: unknown): boolean {
  return diskFullCodes.has(String((err as { code?: unknown } | null)?.code));
}

/**
 * A full (or read-only) disk answers 507 InsufficientStorage, as S3-compatible servers do, so
 * clients can tell "out of space, retry later" from a server fault; the rest is a 500.
 */
function asS3Error(err: unknown): S3Error {
  if (err instanceof S3Error) return err;
  if (isDiskFull(err)) {
    const code = String((err as { code?: unknown }).code);
    return new S3Error(507, 'InsufficientStorage', `The store has no space left for this request (${code}).`);
  }
  return new S3Error(500, 'InternalError', String(err));
}

/**
 * Writes `bytes` to `tmp`, flushes them to disk, and renames `tmp` to `path`: after a crash or on
 * a full disk the object is there whole or not at all. The temporary file is removed on failure.
 */
async function writeDurably(tmp: string, path: string, bytes: Buffer): Promise<void> {
  try {
    const handle = await open(tmp, 'w');
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
}

function sendXml(res: ServerResponse, status: number, xml: string): void {
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n${xml}`;
  res.writeHead(status, { 'Content-Type': 'application/xml', 'Content-Length': Buffer.byteLength(body) });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

function unescapeXml(s: string): string {
  return s.replace(/&(lt|gt|amp|apos|quot);/g, (_, e: string) => ({ lt: '<', gt: '>', amp: '&', apos: "'", quot: '"' })[e]!);
}

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new S3Error(400, 'EntityTooLarge', 'Your proposed upload exceeds the maximum allowed object size.');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

async function drain(req: IncomingMessage): Promise<void> {
  for await (const chunk of req) void chunk;
}

/** Decodes an `aws-chunked` body: `<hex size>[;ext]\r\n<data>\r\n` … `0[;ext]\r\n[trailers]\r\n`. */
export function decodeAwsChunked(body: Buffer): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = body.indexOf('\r\n', at);
    if (eol < 0) throw new S3Error(400, 'IncompleteBody', 'aws-chunked body ends inside a chunk header');
    const size = parseInt(body.subarray(at, eol).toString('latin1').split(';')[0]!, 16);
    if (!Number.isFinite(size)) throw new S3Error(400, 'InvalidRequest', 'bad aws-chunked chunk size');
    if (size === 0) return Buffer.concat(parts);
    parts.push(body.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
}
