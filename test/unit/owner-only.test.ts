import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EMPTY_PAYLOAD_SHA256, redactUrl, SigV4Signer, SigV4Verifier } from '@facepipe/core';
import { DataDirError, deploymentCredentials, secureDataDir } from '@facepipe/devstack';
import { refusedCredentials } from '../../packages/cli/src/errors/cli-failure.js';

const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const verifier = new SigV4Verifier({ secretFor: (id) => (id === credentials.accessKeyId ? credentials.secretAccessKey : undefined) });
const signer = new SigV4Signer({ region: 'eu-west-1' });

/** A request as node:http would hand it to the server, signed by core's signer. */
function signedRequest(key: string, query: Record<string, string> = {}, secret = credentials.secretAccessKey, when = new Date()) {
  const path = `/bucket/${key.split('/').map((s) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)).join('/')}`;
  const headers = signer.sign({ method: 'GET', host: 'localhost:9000', path, query, payloadHash: EMPTY_PAYLOAD_SHA256 }, { ...credentials, secretAccessKey: secret }, when);
  const qs = new URLSearchParams(query).toString().replace(/\+/g, '%20');
  return { method: 'GET', url: qs ? `${path}?${qs}` : path, headers: { ...headers, host: 'localhost:9000' } as Record<string, string> };
}

const rejection = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    return (err as { code?: string }).code;
  }
  return 'accepted';
};

test("SigV4 verification accepts core's own signatures (odd keys, queries) and refuses forged, foreign, stale and unsigned requests with S3's codes", () => {
  for (const key of ['a/b c.jpg', 'ünïcode/(1)*!.png', 'plus+sign']) {
    assert.equal(verifier.verify(signedRequest(key, { prefix: 'a b/', 'list-type': '2' })).accessKeyId, credentials.accessKeyId);
  }
  const forged = signedRequest('x.jpg');
  forged.headers.authorization = forged.headers.authorization!.replace(/Signature=\w+/, `Signature=${'deadbeef'.repeat(8)}`);
  assert.equal(rejection(() => verifier.verify(forged)), 'SignatureDoesNotMatch');
  const tampered = signedRequest('x.jpg');
  tampered.url = '/bucket/y.jpg';
  assert.equal(rejection(() => verifier.verify(tampered)), 'SignatureDoesNotMatch', 'the path is signed');
  assert.equal(rejection(() => verifier.verify(signedRequest('x.jpg', {}, 'another-secret'))), 'SignatureDoesNotMatch');
  const stranger = signedRequest('x.jpg');
  stranger.headers.authorization = stranger.headers.authorization!.replace('AKIDEXAMPLE', 'SOMEONE');
  assert.equal(rejection(() => verifier.verify(stranger)), 'InvalidAccessKeyId');
  assert.equal(rejection(() => verifier.verify(signedRequest('x.jpg', {}, credentials.secretAccessKey, new Date(Date.now() - 20 * 60_000)))), 'RequestTimeTooSkewed');
  assert.equal(rejection(() => verifier.verify({ method: 'GET', url: '/bucket/x.jpg', headers: {} })), 'AccessDenied');
  assert.equal(rejection(() => verifier.verify({ method: 'GET', url: '/bucket/x.jpg', headers: { authorization: 'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/' } })), 'AuthorizationHeaderMalformed');
});

test('the data dir: created 0700 with umask 077; one open to others is refused with the chmod that fixes it', () => {
  const root = mkdtempSync(join(tmpdir(), 'facepipe-datadir-'));
  const previous = process.umask();
  try {
    const fresh = join(root, 'fresh');
    secureDataDir(fresh);
    assert.equal(statSync(fresh).mode & 0o777, 0o700);
    assert.equal(process.umask(), 0o077);
    writeFileSync(join(fresh, 'f'), 'x');
    assert.equal(statSync(join(fresh, 'f')).mode & 0o777, 0o600);

    const open = join(root, 'open');
    mkdirSync(open);
    chmodSync(open, 0o750);
    assert.throws(() => secureDataDir(open), (err: Error) => err instanceof DataDirError && err.message === `data dir ${open} is open to other users (mode 750); faces are biometric data: run \`chmod 700 ${open}\` and start again`);
    writeFileSync(join(root, 'file'), '');
    assert.throws(() => secureDataDir(join(root, 'file')), /not a folder/);
  } finally {
    process.umask(previous);
    rmSync(root, { recursive: true, force: true });
  }
});

test('credentials: made on the first start (also in a data dir of an older version that has none), 0600, then the same every start', () => {
  const dir = mkdtempSync(join(tmpdir(), 'facepipe-credentials-'));
  try {
    writeFileSync(join(dir, 'deployment.json'), '{}'); // an older data dir: no credentials.json
    const first = deploymentCredentials(dir);
    assert.equal(statSync(join(dir, 'credentials.json')).mode & 0o777, 0o600);
    assert.match(first.redisPassword, /^[0-9a-f]{48}$/);
    assert.match(first.s3SecretAccessKey, /^[0-9a-f]{48}$/);
    assert.deepEqual(deploymentCredentials(dir), first);
    writeFileSync(join(dir, 'credentials.json'), 'damaged');
    const remade = deploymentCredentials(dir);
    assert.notEqual(remade.redisPassword, first.redisPassword);
    assert.deepEqual(JSON.parse(readFileSync(join(dir, 'credentials.json'), 'utf8')), remade);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('passwords stay out of messages; refused credentials are one line naming the setting', () => {
  assert.equal(redactUrl('redis://default:s3cret@127.0.0.1:6379'), 'redis://default:***@127.0.0.1:6379');
  assert.equal(redactUrl('redis://127.0.0.1:6379'), 'redis://127.0.0.1:6379');
  assert.match(refusedCredentials(new Error('NOAUTH Authentication required.'))!, /^Redis refused the credentials.*REDIS_URL/);
  assert.match(refusedCredentials(new Error('x', { cause: Object.assign(new Error('The request signature we calculated does not match'), { name: 'SignatureDoesNotMatch' }) }))!, /^S3 refused the credentials.*S3_SECRET_ACCESS_KEY/);
  assert.match(refusedCredentials(Object.assign(new Error('password authentication failed for user "x"'), { code: '28P01' }))!, /DATABASE_URL/);
  assert.equal(refusedCredentials(new Error('ECONNREFUSED')), undefined);
});
