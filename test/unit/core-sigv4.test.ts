import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import { SigV4Signer } from '@facepipe/core';
import { EMPTY_PAYLOAD_SHA256, encodeKeyPath, sha256Hex } from '../../packages/core/src/storage/sigv4.js';

const bytes = (d: string | ArrayBuffer | ArrayBufferView): string | Uint8Array =>
  typeof d === 'string' ? d : d instanceof ArrayBuffer ? new Uint8Array(d) : new Uint8Array(d.buffer, d.byteOffset, d.byteLength);

/** The hash constructor smithy's signer takes, over node:crypto. */
class NodeSha256 {
  readonly #hash;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.#hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.#hash.update(bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.#hash.digest());
  }
}

const credentials = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' };

test("AWS's documented S3 example (GET /test.txt with a Range header) signs to the published signature", () => {
  const headers = new SigV4Signer({ region: 'us-east-1' }).sign(
    { method: 'GET', host: 'examplebucket.s3.amazonaws.com', path: '/test.txt', headers: { range: 'bytes=0-9' }, payloadHash: EMPTY_PAYLOAD_SHA256 },
    credentials,
    new Date('2013-05-24T00:00:00Z'),
  );
  assert.equal(
    headers.authorization,
    'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41',
  );
  assert.equal(headers['x-amz-date'], '20130524T000000Z');
});

test('signatures equal those of the AWS SDK signer for puts, gets, odd keys, ports and session tokens', async () => {
  const cases = [
    { method: 'PUT', host: '127.0.0.1:9000', key: 'results/ab/abcdef.json', body: '{"faces":[]}', headers: { 'content-type': 'application/json' } },
    { method: 'GET', host: 'my-bucket.s3.eu-west-1.amazonaws.com', key: 'originals/00/0011aa.jpg' },
    { method: 'HEAD', host: 's3.eu-west-1.amazonaws.com', key: "gallery/members/Zoë O'Neil (2)/x*y~z+ü.json" },
    { method: 'DELETE', host: 'minio:9000', key: 'a b/c%d/ä€𝄞' },
  ];
  for (const sessionToken of [undefined, 'FQoGZXIvYXdzEJr//////////wEaDA/token+with/slashes=']) {
    const creds = { ...credentials, ...(sessionToken ? { sessionToken } : {}) };
    for (const c of cases) {
      const path = `/facepipe/${encodeKeyPath(c.key)}`;
      const payloadHash = c.body ? sha256Hex(c.body) : EMPTY_PAYLOAD_SHA256;
      const date = new Date('2026-11-28T01:02:03Z');
      const ours = new SigV4Signer({ region: 'eu-west-1' }).sign({ method: c.method, host: c.host, path, headers: c.headers, payloadHash }, creds, date);
      const [hostname, port] = c.host.split(':');
      const reference = new SignatureV4({ credentials: creds, region: 'eu-west-1', service: 's3', sha256: NodeSha256, uriEscapePath: false, applyChecksum: true });
      const signed = await reference.sign(
        {
          method: c.method,
          protocol: 'https:',
          hostname: hostname!,
          port: port ? Number(port) : undefined,
          path,
          query: {},
          headers: { host: c.host, 'x-amz-content-sha256': payloadHash, ...(c.headers ?? {}) },
          body: c.body,
        },
        { signingDate: date },
      );
      assert.equal(ours.authorization, signed.headers.authorization, `${c.method} ${c.key} token=${Boolean(sessionToken)}`);
      assert.equal(ours['x-amz-security-token'], sessionToken);
    }
  }
});

test('keys are encoded segment by segment, as S3 expects on the wire', () => {
  assert.equal(encodeKeyPath('a b/c+d/é(1)*'), 'a%20b/c%2Bd/%C3%A9%281%29%2A');
  assert.equal(encodeKeyPath('results/ab/abc-_.~.json'), 'results/ab/abc-_.~.json');
});

test('the signing key is derived once per day and secret', () => {
  const signer = new SigV4Signer({ region: 'us-east-1' });
  const req = { method: 'GET', host: 'h', path: '/b/k', payloadHash: EMPTY_PAYLOAD_SHA256 };
  const a = signer.sign(req, credentials, new Date('2026-01-01T10:00:00Z')).authorization;
  const b = signer.sign(req, credentials, new Date('2026-01-02T10:00:00Z')).authorization;
  const c = signer.sign(req, { ...credentials, secretAccessKey: 'other' }, new Date('2026-01-02T10:00:00Z')).authorization;
  const d = new SigV4Signer({ region: 'us-east-1' }).sign(req, credentials, new Date('2026-01-02T10:00:00Z')).authorization;
  assert.notEqual(a, b);
  assert.notEqual(b, c);
  assert.equal(b, d, 'a cached key gives what a fresh signer gives');
});
