/**
 * The load generator of bench/upload-api.ts, run as a process of its own so it does not share
 * an event loop with the service or the S3 server: autocannon POSTing one small JPEG per
 * request to /v1/images, every body different (a JPEG comment carries a counter, so each upload
 * is a new image) or every body the same (the de-duplication path). Prints one JSON line.
 *
 *   npx tsx bench/_upload-load.ts <url> <token> <jpeg> <distinct|duplicate> <connections> <seconds>
 */
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';

const [url, token, jpegPath, mode, connections, seconds] = process.argv.slice(2);
const jpeg = readFileSync(jpegPath!);
const boundary = 'facepipebenchboundary7d3f';
const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="small.jpg"\r\nContent-Type: image/jpeg\r\n\r\n`);
const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
let counter = 0;
const run = process.hrtime.bigint().toString(36);

/** The same picture with a COM segment after SOI: a valid JPEG with its own sha256. */
function variant(n: number): Buffer {
  const text = Buffer.from(`facepipe bench ${run} ${n}`);
  const segment = Buffer.alloc(4 + text.length);
  segment.writeUInt16BE(0xfffe, 0);
  segment.writeUInt16BE(text.length + 2, 2);
  text.copy(segment, 4);
  return Buffer.concat([head, jpeg.subarray(0, 2), segment, jpeg.subarray(2), tail]);
}
const same = Buffer.concat([head, jpeg, tail]);

const times: number[] = [];
const statuses = new Map<number, number>();
const instance = autocannon({
  url,
  connections: Number(connections),
  duration: Number(seconds),
  requests: [
    {
      method: 'POST',
      path: '/v1/images',
      headers: { authorization: `Bearer ${token}`, 'content-type': `multipart/form-data; boundary=${boundary}` },
      setupRequest: (req) => ({ ...req, body: mode === 'duplicate' ? same : variant(counter++) }),
    },
  ],
});
instance.on('response', (_client, statusCode, _bytes, responseTime) => {
  times.push(responseTime);
  statuses.set(statusCode, (statuses.get(statusCode) ?? 0) + 1);
});
const result = await instance;
times.sort((a, b) => a - b);
const pct = (p: number) => times[Math.min(times.length - 1, Math.max(0, Math.ceil((p / 100) * times.length) - 1))] ?? null;
process.stdout.write(
  `${JSON.stringify({
    mode,
    connections: Number(connections),
    seconds: Number(seconds),
    requests: times.length,
    rps: Math.round((times.length / result.duration) * 10) / 10,
    p50: pct(50),
    p95: pct(95),
    p99: pct(99),
    max: times.at(-1) ?? null,
    statuses: Object.fromEntries(statuses),
    errors: result.errors,
    timeouts: result.timeouts,
  })}\n`,
);
