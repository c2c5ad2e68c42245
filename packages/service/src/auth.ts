import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** Cookie the dashboard's sign-in sets (HttpOnly, SameSite=Strict); its value is derived from the token, never the token. */
export const sessionCookieName = 'facepipe_session';

export type AuthResult = 'ok' | 'missing' | 'invalid';

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/** Constant-time string comparison (hashes first, so lengths leak nothing either). */
export function safeEqual(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

/** Parses a Cookie header into name → value (first occurrence wins). */
export function parseCookies(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim();
    if (!cookies.has(name)) cookies.set(name, part.slice(eq + 1).trim());
  }
  return cookies;
}

/**
 * Bearer-token authentication for the API, and a session cookie for browsers (which cannot
 * send an Authorization header on page loads). Without a token every request is allowed (the
 * service then listens on loopback only, see listen-policy.ts).
 */
export class Authenticator {
  readonly #token: string | undefined;
  readonly #session: string | undefined;

  constructor(token: string | undefined) {
    this.#token = token;
    // Stateless: rotating the token signs every browser out.
    this.#session = token === undefined ? undefined : createHmac('sha256', token).update('facepipe dashboard session v1').digest('base64url');
  }

  get required(): boolean {
    return this.#token !== undefined;
  }

  /** Checks `Authorization: Bearer <token>`, or the session cookie when `allowCookie`. */
  check(headers: { authorization?: string; cookie?: string }, allowCookie: boolean): AuthResult {
    if (this.#token === undefined || this.#session === undefined) return 'ok';
    const auth = headers.authorization;
    if (auth !== undefined) {
      const match = /^Bearer\s+(\S+)\s*$/i.exec(auth);
      return match && safeEqual(match[1]!, this.#token) ? 'ok' : 'invalid';
    }
    if (allowCookie) {
      const session = parseCookies(headers.cookie).get(sessionCookieName);
      if (session !== undefined) return safeEqual(session, this.#session) ? 'ok' : 'invalid';
    }
    return 'missing';
  }

  /** Whether a token typed into the sign-in form is the right one. */
  matches(candidate: string): boolean {
    return this.#token !== undefined && safeEqual(candidate, this.#token);
  }

  /** The Set-Cookie value after a successful sign-in. */
  sessionCookie(secure: boolean): string {
    if (this.#session === undefined) throw new Error('no token configured');
    return `${sessionCookieName}=${this.#session}; Path=/; HttpOnly; SameSite=Strict; Max-Age=604800${secure ? '; Secure' : ''}`;
  }

  /** The Set-Cookie value that signs a browser out. */
  static clearCookie(): string {
    return `${sessionCookieName}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`;
  }
}
