import { isIP } from 'node:net';
import { ConfigError } from '@facepipe/core';

/** True for addresses only this machine can reach: localhost, 127.0.0.0/8, ::1. */
export function isLoopbackHost(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1');
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || h === '0:0:0:0:0:0:0:1' || /^::ffff:127\./.test(h);
  return false;
}

/**
 * The service refuses to listen beyond loopback without a bearer token: an open upload API and
 * dashboard (pause, retry, discard) on a network address is never what anyone wants.
 */
export function checkListenPolicy(host: string, token: string | undefined): void {
  if (token === undefined && !isLoopbackHost(host)) {
    throw new ConfigError([
      `FACEPIPE_HTTP_HOST ("${host}") is not a loopback address and FACEPIPE_API_TOKEN is unset: ` +
        'set FACEPIPE_API_TOKEN (16+ characters, e.g. `openssl rand -hex 24`) so the API and dashboard require it, ' +
        'or listen on 127.0.0.1',
    ]);
  }
}
