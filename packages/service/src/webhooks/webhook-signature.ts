import { createHmac, timingSafeEqual } from 'node:crypto';

/** The header a delivery is signed in: `t=<unix seconds>,v1=<hex HMAC-SHA256>`. */
export const signatureHeader = 'x-facepipe-signature';

/**
 * The signature of one delivery: HMAC-SHA256, keyed with the webhook's secret, of
 * `<timestamp>.<raw body>`. The timestamp is signed too, so an old delivery cannot be replayed
 * later with a fresh one.
 */
export function signWebhook(secret: string, body: string, timestampS = Math.floor(Date.now() / 1000)): string {
  return `t=${timestampS},v1=${createHmac('sha256', secret).update(`${timestampS}.${body}`).digest('hex')}`;
}

/**
 * What a receiver does (the docs show it): recompute the HMAC over the raw body, compare in
 * constant time, and refuse a timestamp older than `toleranceS`. True when the delivery is genuine.
 */
export function verifyWebhook(secret: string, body: string, header: string | undefined, toleranceS = 300, nowS = Math.floor(Date.now() / 1000)): boolean {
  const parts = Object.fromEntries((header ?? '').split(',').map((p) => p.split('=', 2) as [string, string]));
  const t = Number(parts.t);
  if (!Number.isInteger(t) || Math.abs(nowS - t) > toleranceS || typeof parts.v1 !== 'string') return false;
  const expected = Buffer.from(signWebhook(secret, body, t).split('v1=')[1]!, 'hex');
  const given = Buffer.from(parts.v1, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}
