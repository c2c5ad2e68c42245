import { createHash, createHmac } from 'node:crypto';

/** AWS credentials as the SDK's providers return them. */
export interface SigningCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface SignableRequest {
  method: string;
  /** Host header value (with a port when it is not the scheme's default). */
  host: string;
  /** Path as sent on the wire: each segment already URI-encoded, `/` kept. */
  path: string;
  /** Query parameters (unencoded); empty for object requests. */
  query?: Readonly<Record<string, string>>;
  /** Extra headers to sign besides host and the x-amz-* ones this function adds. Lower-case names. */
  headers?: Readonly<Record<string, string>>;
  /** Hex SHA-256 of the body, or "UNSIGNED-PAYLOAD". */
  payloadHash: string;
}

export interface SigningScope {
  region: string;
  /** @defaultValue "s3" */
  service?: string;
}

/** SHA-256 of the empty string, the payload hash of bodiless requests. */
export const EMPTY_PAYLOAD_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

export const sha256Hex = (data: string | Buffer | Uint8Array): string => createHash('sha256').update(data).digest('hex');

/** RFC 3986 encoding as SigV4 wants it: everything but unreserved characters, `/` too. */
export function uriEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** An object key as a path: each segment encoded, slashes kept. */
export const encodeKeyPath = (key: string): string => key.split('/').map(uriEncode).join('/');

/** `20130524T000000Z` */
export const amzDate = (date: Date): string => date.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');

/**
 * The canonical request of SigV4 (S3 flavour): method, path as encoded on the wire, the query
 * sorted and encoded, the signed headers (lower-case `names`, sorted, values from `headers`
 * trimmed with inner runs of spaces folded) and the payload hash. Shared by signing and by the
 * embedded S3 server's verification, so both agree byte for byte.
 */
export function canonicalRequest(
  method: string,
  path: string,
  query: Readonly<Record<string, string>> | ReadonlyArray<readonly [string, string]>,
  names: readonly string[],
  headers: Readonly<Record<string, string>>,
  payloadHash: string,
): string {
  const pairs = Array.isArray(query) ? (query as ReadonlyArray<readonly [string, string]>) : Object.entries(query);
  const encodedQuery = pairs
    .map(([k, v]) => [uriEncode(k), uriEncode(v)] as const)
    .sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const canonicalHeaders = names.map((n) => `${n}:${(headers[n] ?? '').trim().replace(/\s+/g, ' ')}\n`).join('');
  return [method, path, encodedQuery, canonicalHeaders, names.join(';'), payloadHash].join('\n');
}

/**
 * AWS Signature Version 4 for one request (header form, S3 flavour: the path is encoded once).
 * Returns the headers to add: authorization, x-amz-date, x-amz-content-sha256 and, with
 * temporary credentials, x-amz-security-token. The derived signing key is cached per secret,
 * day, region and service, so a request costs two SHA-256 digests and one HMAC.
 */
export class SigV4Signer {
  readonly #region: string;
  readonly #service: string;
  #keyCache: { id: string; key: Buffer } | undefined;

  constructor(scope: SigningScope) {
    this.#region = scope.region;
    this.#service = scope.service ?? 's3';
  }

  sign(request: SignableRequest, credentials: SigningCredentials, now: Date = new Date()): Record<string, string> {
    const timestamp = amzDate(now);
    const day = timestamp.slice(0, 8);
    const added: Record<string, string> = { 'x-amz-content-sha256': request.payloadHash, 'x-amz-date': timestamp };
    if (credentials.sessionToken) added['x-amz-security-token'] = credentials.sessionToken;
    const headers: Record<string, string> = { ...request.headers, ...added, host: request.host };
    const lower: Record<string, string> = {};
    for (const [n, v] of Object.entries(headers)) lower[n.toLowerCase()] = v;
    const names = Object.keys(lower).sort();
    const signedHeaders = names.join(';');
    const scope = `${day}/${this.#region}/${this.#service}/aws4_request`;
    const canonical = canonicalRequest(request.method, request.path, request.query ?? {}, names, lower, request.payloadHash);
    const signature = this.signature(credentials.secretAccessKey, timestamp, canonical);
    return {
      ...added,
      authorization: `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`,
    };
  }

  /** The hex signature of a canonical request made at `timestamp` (`20130524T000000Z`), in this signer's scope. */
  signature(secret: string, timestamp: string, canonical: string): string {
    const day = timestamp.slice(0, 8);
    const stringToSign = `AWS4-HMAC-SHA256\n${timestamp}\n${day}/${this.#region}/${this.#service}/aws4_request\n${sha256Hex(canonical)}`;
    return createHmac('sha256', this.#signingKey(secret, day)).update(stringToSign).digest('hex');
  }

  #signingKey(secret: string, day: string): Buffer {
    const id = `${day}\0${secret}`;
    if (this.#keyCache?.id === id) return this.#keyCache.key;
    const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();
    const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, day), this.#region), this.#service), 'aws4_request');
    this.#keyCache = { id, key };
    return key;
  }
}
