// What verifying SigV4 costs the embedded S3 server per request, against what signing costs the
// client (the baseline, same process, same request): `npm run bench -- sigv4-verify`.
import { EMPTY_PAYLOAD_SHA256, SigV4Signer, SigV4Verifier } from '@facepipe/core';

const credentials = { accessKeyId: 'facepipe-0123456789ab', secretAccessKey: 'x'.repeat(48) };
const verifier = new SigV4Verifier({ secretFor: () => credentials.secretAccessKey });
const signer = new SigV4Signer({ region: 'us-east-1' });
const host = '127.0.0.1:9000';
const path = '/facepipe/crops/ab/abcdef0123456789abcdef0123456789.jpg';
const headers = { ...signer.sign({ method: 'GET', host, path, payloadHash: EMPTY_PAYLOAD_SHA256 }, credentials), host };
const n = Number(process.env.BENCH_N ?? 50_000);

function cpuMicrosPer(fn: () => unknown): number {
  for (let i = 0; i < 2000; i += 1) fn(); // warm up
  const start = process.cpuUsage();
  for (let i = 0; i < n; i += 1) fn();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / n;
}

const sign = cpuMicrosPer(() => signer.sign({ method: 'GET', host, path, payloadHash: EMPTY_PAYLOAD_SHA256 }, credentials));
const verify = cpuMicrosPer(() => verifier.verify({ method: 'GET', url: path, headers }));
console.log(`requests: ${n}`);
console.log(`sign (client, baseline): ${sign.toFixed(1)} µs CPU per request`);
console.log(`verify (embedded S3 server): ${verify.toFixed(1)} µs CPU per request (${(verify / sign).toFixed(2)}× signing)`);
