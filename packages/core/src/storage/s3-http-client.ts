import http from 'node:http';
import https from 'node:https';
import { FacepipeError, storageFullReason } from '../errors/index.js';
import type { ObjectInfo } from './object-store.js';
import { EMPTY_PAYLOAD_SHA256, encodeKeyPath, sha256Hex, SigV4Signer, type SigningCredentials } from './sigv4.js';

export interface S3HttpClientOptions {
  bucket: string;
  region: string;
  /** Base URL of an S3-compatible service; unset = AWS S3 in `region`. */
  endpoint?: string;
  /** @defaultValue true when `endpoint` is set, or when the bucket name has a dot */
  forcePathStyle?: boolean;
  /** Credentials, asked for at every request (the AWS SDK's providers cache and refresh them). */
  credentials: () => Promise<SigningCredentials>;
  /**
   * Attempts per request: network errors, timeouts, 5xx, 429 and S3's SlowDown/RequestTimeout
   * are retried with exponential backoff and full jitter, as the SDK's standard mode does.
   * @defaultValue 5
   */
  maxAttempts?: number;
  /** A request with no progress for this long fails (and is retried). @defaultValue 30000 */
  timeoutMs?: number;
  /** Open connections per host. @defaultValue 64 */
  maxSockets?: number;
  /** First backoff, ms; doubles per attempt, capped at 20 s. @defaultValue 100 */
  baseDelayMs?: number;
}

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** An answer S3 gave: a status and, from the XML error body, its code. */
class S3HttpError extends Error {
  constructor(
    readonly status: number,
    readonly s3Code: string | undefined,
    message: string,
  ) {
    super(message);
  }

  /** Read by storageFullReason (507, InsufficientStorage). */
  get code(): string | undefined {
    return this.s3Code;
  }
}

const retryableCodes = new Set(['SlowDown', 'RequestTimeout', 'InternalError', 'ServiceUnavailable', 'RequestTimeTooSkewed']);
const isRetryable = (err: unknown): boolean =>
  err instanceof S3HttpError ? err.status >= 500 || err.status === 429 || (err.s3Code !== undefined && retryableCodes.has(err.s3Code)) : true;

function xmlField(xml: string, name: string): string | undefined {
  const m = new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml);
  return m?.[1];
}

/**
 * The object requests of facepipe's hot path (GET, PUT, HEAD, DELETE of one object) over
 * Node's own HTTP client with keep-alive connections and SigV4 signing. It does what the AWS
 * SDK's client does for these four calls at a fraction of its CPU per request (the SDK's
 * middleware stack cost 2–4 ms of CPU per request on the 2-core dev machine, this 0.3–0.8 ms,
 * measured by `bench/s3-client.ts`), which matters at ten requests per image. Listings,
 * copies and bucket creation stay with the SDK.
 */
export class S3HttpClient {
  readonly bucket: string;
  readonly #signer: SigV4Signer;
  readonly #credentials: () => Promise<SigningCredentials>;
  readonly #transport: typeof http | typeof https;
  readonly #agent: http.Agent;
  readonly #hostname: string;
  readonly #port: number | undefined;
  readonly #hostHeader: string;
  readonly #pathPrefix: string;
  readonly #maxAttempts: number;
  readonly #timeoutMs: number;
  readonly #baseDelayMs: number;
  #closed = false;

  constructor(options: S3HttpClientOptions) {
    this.bucket = options.bucket;
    this.#signer = new SigV4Signer({ region: options.region });
    this.#credentials = options.credentials;
    this.#maxAttempts = Math.max(1, options.maxAttempts ?? 5);
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.#baseDelayMs = options.baseDelayMs ?? 100;
    const base = new URL(options.endpoint ?? `https://s3.${options.region}.amazonaws.com`);
    const pathStyle = options.forcePathStyle ?? (options.endpoint !== undefined || options.bucket.includes('.'));
    this.#transport = base.protocol === 'http:' ? http : https;
    const AgentClass = base.protocol === 'http:' ? http.Agent : https.Agent;
    this.#agent = new AgentClass({ keepAlive: true, maxSockets: options.maxSockets ?? 64, scheduling: 'lifo' });
    this.#hostname = pathStyle ? base.hostname : `${options.bucket}.${base.hostname}`;
    this.#port = base.port ? Number(base.port) : undefined;
    this.#hostHeader = base.port ? `${this.#hostname}:${base.port}` : this.#hostname;
    const prefix = base.pathname.replace(/\/+$/, '');
    this.#pathPrefix = pathStyle ? `${prefix}/${options.bucket}/` : `${prefix}/`;
  }

  /** The object's bytes, or undefined when there is no such key. */
  async get(key: string): Promise<Buffer | undefined> {
    const reply = await this.#send('GET', key, undefined, {}, [200, 404]);
    if (reply.status === 404) return undefined;
    const declared = reply.headers['content-length'];
    if (declared !== undefined && Number(declared) !== reply.body.length) {
      throw new FacepipeError('STORAGE_UNAVAILABLE', `get ${key}: ${reply.body.length} of ${declared} bytes arrived`);
    }
    return reply.body;
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    const reply = await this.#send('HEAD', key, undefined, {}, [200, 404]);
    if (reply.status === 404) return undefined;
    const modified = reply.headers['last-modified'];
    return {
      key,
      size: Number(reply.headers['content-length'] ?? 0),
      etag: reply.headers.etag,
      lastModified: modified ? new Date(modified) : undefined,
      contentType: reply.headers['content-type'],
    };
  }

  /** `tagging`: the object's tags as a URL query (`k=v&k2=v2`), sent signed as x-amz-tagging. */
  async put(key: string, body: Buffer, headers: { contentType?: string; cacheControl?: string; tagging?: string } = {}): Promise<void> {
    const extra: Record<string, string> = {};
    if (headers.contentType) extra['content-type'] = headers.contentType;
    if (headers.cacheControl) extra['cache-control'] = headers.cacheControl;
    if (headers.tagging) extra['x-amz-tagging'] = headers.tagging;
    await this.#send('PUT', key, body, extra, [200]);
  }

  /** Deleting a missing key succeeds, as in S3. */
  async delete(key: string): Promise<void> {
    await this.#send('DELETE', key, undefined, {}, [200, 204, 404]);
  }

  /** Closes idle connections; idempotent. Requests in flight finish. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#agent.destroy();
  }

  async #send(method: string, key: string, body: Buffer | undefined, headers: Record<string, string>, expected: number[]): Promise<Reply> {
    const path = `${this.#pathPrefix}${encodeKeyPath(key)}`;
    const payloadHash = body ? sha256Hex(body) : EMPTY_PAYLOAD_SHA256;
    for (let attempt = 1; ; attempt++) {
      try {
        if (this.#closed) throw new FacepipeError('STORAGE_UNAVAILABLE', 'the S3 client is closed', { retryable: false });
        const signed = this.#signer.sign({ method, host: this.#hostHeader, path, headers, payloadHash }, await this.#credentials());
        const reply = await this.#request(method, path, body, { ...headers, ...signed });
        if (expected.includes(reply.status)) return reply;
        const xml = reply.body.toString('utf8');
        const code = xmlField(xml, 'Code');
        throw new S3HttpError(reply.status, code, `HTTP ${reply.status}${code ? ` ${code}` : ''}${xmlField(xml, 'Message') ? `: ${xmlField(xml, 'Message')}` : ''}`);
      } catch (err) {
        if (err instanceof FacepipeError) throw err;
        const message = `${method.toLowerCase()} ${key}: ${err instanceof Error ? err.message : String(err)}`;
        // Out of space: not retried here (seconds will not free a disk); the job retries within
        // its window, admission pauses, and the condition shows on the dashboard.
        if (storageFullReason(err) !== undefined) throw new FacepipeError('STORAGE_FULL', message, { cause: err });
        if (!isRetryable(err)) {
          // Access denied, bad credentials, no such bucket: retrying the job will not help until
          // someone changes the configuration, but the configuration may be changed; keep it retryable.
          throw new FacepipeError('STORAGE_UNAVAILABLE', message, { cause: err });
        }
        if (attempt >= this.#maxAttempts) throw new FacepipeError('STORAGE_UNAVAILABLE', `${message} (after ${attempt} attempts)`, { cause: err });
        const cap = Math.min(20_000, this.#baseDelayMs * 2 ** (attempt - 1));
        await new Promise((resolve) => setTimeout(resolve, Math.random() * cap));
      }
    }
  }

  #request(method: string, path: string, body: Buffer | undefined, headers: Record<string, string>): Promise<Reply> {
    return new Promise<Reply>((resolve, reject) => {
      const req = this.#transport.request(
        {
          method,
          hostname: this.#hostname,
          port: this.#port,
          path,
          agent: this.#agent,
          headers: { ...headers, ...(body ? { 'content-length': String(body.length) } : {}) },
          timeout: this.#timeoutMs,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', reject);
          res.on('aborted', () => reject(new Error('the response was cut off')));
          res.on('end', () => {
            if (!res.complete) reject(new Error('the response was cut off'));
            else resolve({ status: res.statusCode ?? 0, headers: res.headers, body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks) });
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${this.#timeoutMs} ms`)));
      req.on('error', reject);
      req.end(body);
    });
  }
}
