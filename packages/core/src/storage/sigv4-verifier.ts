import { timingSafeEqual } from 'node:crypto';
import { canonicalRequest, SigV4Signer, uriEncode } from './sigv4.js';

/** Why a request's SigV4 authentication was refused: S3's error codes (all answered with 403). */
export type SigV4RejectionCode =
  | 'AccessDenied'
  | 'InvalidAccessKeyId'
  | 'SignatureDoesNotMatch'
  | 'RequestTimeTooSkewed'
  | 'AuthorizationHeaderMalformed';

/** A request whose signature does not prove the sender holds the secret key. */
export class SigV4Rejection extends Error {
  constructor(
    readonly code: SigV4RejectionCode,
    message: string,
  ) {
    super(message);
    this.name = 'SigV4Rejection';
  }
}

export interface VerifiableRequest {
  method: string;
  /** Path and query exactly as sent on the wire (`req.url` of node:http). */
  url: string;
  /** Headers as node:http gives them (lower-case names). */
  headers: Readonly<Record<string, string | string[] | undefined>>;
}

export interface VerifiedRequest {
  accessKeyId: string;
  /**
   * What the signature says of the body: a hex SHA-256 the server should compare with the bytes
   * it reads, `UNSIGNED-PAYLOAD`, or a `STREAMING-…` mode (aws-chunked bodies).
   */
  payloadHash: string;
}

export interface SigV4VerifierOptions {
  /** The secret of an access key id, or undefined for an unknown one. */
  secretFor: (accessKeyId: string) => string | undefined;
  /** Largest difference between the request's time and the server's. @defaultValue 15 minutes (S3's) */
  maxSkewMs?: number;
  /** @defaultValue "s3" */
  service?: string;
}

const headerAuth = /^AWS4-HMAC-SHA256 +Credential=([^,\s]+)\s*,\s*SignedHeaders=([^,\s]+)\s*,\s*Signature=([0-9a-fA-F]+)\s*$/;

/**
 * Verifies AWS Signature Version 4 on a received request (header form and presigned query form),
 * recomputing the signature with the same canonical request the signer uses ({@link SigV4Signer}).
 * The embedded S3 server's gate: a request with no signature, an unknown key, a wrong signature
 * or a stale date is refused with S3's error code. The payload hash is only read from the signed
 * `x-amz-content-sha256` header; comparing it with the body is the caller's part, as the body has
 * not been read yet.
 */
export class SigV4Verifier {
  readonly #opts: Required<SigV4VerifierOptions>;
  readonly #signers = new Map<string, SigV4Signer>();

  constructor(options: SigV4VerifierOptions) {
    this.#opts = { maxSkewMs: 15 * 60_000, service: 's3', ...options };
  }

  verify(request: VerifiableRequest, now: Date = new Date()): VerifiedRequest {
    const queryAt = request.url.indexOf('?');
    const rawPath = queryAt < 0 ? request.url : request.url.slice(0, queryAt);
    const query = parseQuery(queryAt < 0 ? '' : request.url.slice(queryAt + 1));
    const header = (name: string): string | undefined => {
      const value = request.headers[name];
      return Array.isArray(value) ? value.join(',') : value;
    };
    const authorization = header('authorization');
    const presigned = query.some(([k]) => k === 'X-Amz-Algorithm');
    let credential: string;
    let signedHeaders: string;
    let signature: string;
    let timestamp: string | undefined;
    let payloadHash: string;
    let canonicalQuery: (readonly [string, string])[];
    if (authorization) {
      const m = headerAuth.exec(authorization);
      if (!m) throw new SigV4Rejection('AuthorizationHeaderMalformed', 'The authorization header is malformed; only AWS4-HMAC-SHA256 signatures are accepted.');
      [, credential = '', signedHeaders = '', signature = ''] = m;
      timestamp = header('x-amz-date');
      payloadHash = header('x-amz-content-sha256') ?? '';
      if (!payloadHash) throw new SigV4Rejection('AccessDenied', 'Missing required header for this request: x-amz-content-sha256');
      canonicalQuery = query;
    } else if (presigned) {
      const param = (name: string) => query.find(([k]) => k === name)?.[1];
      if (param('X-Amz-Algorithm') !== 'AWS4-HMAC-SHA256') throw new SigV4Rejection('AuthorizationHeaderMalformed', 'X-Amz-Algorithm must be AWS4-HMAC-SHA256.');
      credential = param('X-Amz-Credential') ?? '';
      signedHeaders = param('X-Amz-SignedHeaders') ?? '';
      signature = param('X-Amz-Signature') ?? '';
      timestamp = param('X-Amz-Date');
      const expires = Number(param('X-Amz-Expires') ?? NaN);
      const signedAt = timestamp ? parseAmzDate(timestamp) : undefined;
      if (!(expires >= 1 && expires <= 604_800) || signedAt === undefined) throw new SigV4Rejection('AuthorizationHeaderMalformed', 'X-Amz-Date and X-Amz-Expires (1 to 604800 s) are required.');
      if (now.getTime() > signedAt + expires * 1000) throw new SigV4Rejection('AccessDenied', 'Request has expired');
      payloadHash = header('x-amz-content-sha256') ?? 'UNSIGNED-PAYLOAD';
      canonicalQuery = query.filter(([k]) => k !== 'X-Amz-Signature');
    } else {
      throw new SigV4Rejection('AccessDenied', 'Access Denied: the request is not signed.');
    }

    const [accessKeyId = '', day = '', region = '', service = '', terminal = ''] = credential.split('/');
    if (!accessKeyId || !/^\d{8}$/.test(day) || !region || service !== this.#opts.service || terminal !== 'aws4_request') {
      throw new SigV4Rejection('AuthorizationHeaderMalformed', `The credential scope is malformed; expecting "<access key>/YYYYMMDD/<region>/${this.#opts.service}/aws4_request".`);
    }
    const secret = this.#opts.secretFor(accessKeyId);
    if (secret === undefined) throw new SigV4Rejection('InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.');
    const signedAt = timestamp ? parseAmzDate(timestamp) : undefined;
    if (signedAt === undefined || timestamp!.slice(0, 8) !== day) throw new SigV4Rejection('AccessDenied', 'The request must carry an x-amz-date (YYYYMMDDTHHMMSSZ) on the day of its credential scope.');
    if (!presigned && Math.abs(now.getTime() - signedAt) > this.#opts.maxSkewMs) {
      throw new SigV4Rejection('RequestTimeTooSkewed', 'The difference between the request time and the current time is too large.');
    }
    const names = signedHeaders.split(';');
    if (!names.includes('host') || names.some((n, i) => n !== n.toLowerCase() || (i > 0 && names[i - 1]! >= n))) {
      throw new SigV4Rejection('AuthorizationHeaderMalformed', 'SignedHeaders must be sorted, lower-case and include host.');
    }
    if (!presigned && !names.includes('x-amz-content-sha256')) throw new SigV4Rejection('AccessDenied', 'x-amz-content-sha256 must be signed.');
    const values: Record<string, string> = {};
    for (const n of names) values[n] = header(n) ?? '';
    const canonical = canonicalRequest(request.method, canonicalPath(rawPath), canonicalQuery, names, values, payloadHash);
    const expected = this.#signer(region).signature(secret, timestamp!, canonical);
    if (signature.length !== expected.length || !timingSafeEqual(Buffer.from(signature.toLowerCase()), Buffer.from(expected))) {
      throw new SigV4Rejection('SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided. Check your key and signing method.');
    }
    return { accessKeyId, payloadHash };
  }

  #signer(region: string): SigV4Signer {
    let signer = this.#signers.get(region);
    if (!signer) {
      if (this.#signers.size > 16) this.#signers.clear();
      signer = new SigV4Signer({ region, service: this.#opts.service });
      this.#signers.set(region, signer);
    }
    return signer;
  }
}

/** `20130524T000000Z` → epoch ms, or undefined. */
function parseAmzDate(value: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!m) return undefined;
  const t = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
  return Number.isFinite(t) ? t : undefined;
}

function decode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new SigV4Rejection('SignatureDoesNotMatch', 'The request path or query is not valid percent-encoding.');
  }
}

/** The path as S3 signs it: every segment decoded and encoded again (RFC 3986), slashes kept. */
function canonicalPath(rawPath: string): string {
  return rawPath.split('/').map((segment) => uriEncode(decode(segment))).join('/') || '/';
}

/** Query pairs, decoded (a bare `key` is `key=`); `+` is a literal plus, as SigV4 clients encode spaces as %20. */
function parseQuery(raw: string): (readonly [string, string])[] {
  if (!raw) return [];
  return raw.split('&').filter(Boolean).map((pair) => {
    const eq = pair.indexOf('=');
    return eq < 0 ? ([decode(pair), ''] as const) : ([decode(pair.slice(0, eq)), decode(pair.slice(eq + 1))] as const);
  });
}
