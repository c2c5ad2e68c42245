import { ApiKeys, type ApiKeyScope } from './api-keys.js';
import { parseCookies, sessionCookieName, type Authenticator } from './auth.js';

/** Who made a request: the bootstrap token (FACEPIPE_API_TOKEN, every scope), an API key, or anyone (no token configured). */
export type Principal = { kind: 'open' } | { kind: 'token' } | { kind: 'key'; id: string; name: string; scopes: ApiKeyScope[] };

export type CredentialCheck = { result: 'ok'; principal: Principal } | { result: 'missing' | 'invalid' };

/**
 * Checks a request's credentials: `Authorization: Bearer <token or key>` or the dashboard's
 * session cookie (of the token or of a key). Keys are looked up in Redis on each request, so a
 * revoked key stops working at once in every service process.
 */
export class Credentials {
  constructor(
    readonly token: Authenticator,
    readonly keys: ApiKeys,
  ) {}

  /** Credentials are needed exactly when FACEPIPE_API_TOKEN is set (otherwise the service listens on loopback only). */
  get required(): boolean {
    return this.token.required;
  }

  async check(headers: { authorization?: string; cookie?: string }, allowCookie: boolean): Promise<CredentialCheck> {
    if (!this.token.required) return { result: 'ok', principal: { kind: 'open' } };
    const authorization = headers.authorization;
    if (authorization !== undefined) {
      const bearer = /^Bearer\s+(\S+)\s*$/i.exec(authorization)?.[1];
      if (bearer !== undefined && ApiKeys.looksLikeKey(bearer)) return this.#keyResult(await this.keys.verify(bearer));
      return this.token.check({ authorization }, false) === 'ok' ? { result: 'ok', principal: { kind: 'token' } } : { result: 'invalid' };
    }
    if (allowCookie) {
      const session = parseCookies(headers.cookie).get(sessionCookieName);
      if (session !== undefined && ApiKeys.isKeySession(session)) return this.#keyResult(await this.keys.verifySession(session));
      const result = this.token.check({ cookie: headers.cookie }, true);
      return result === 'ok' ? { result, principal: { kind: 'token' } } : { result };
    }
    return { result: 'missing' };
  }

  /** The Set-Cookie value for a sign-in with `secret` (the token or a key with the read scope), or undefined when it is not valid. */
  async signIn(secret: string, secure: boolean): Promise<string | undefined> {
    if (ApiKeys.looksLikeKey(secret)) {
      const key = await this.keys.verify(secret);
      if (!key || !ApiKeys.allows(key.scopes, 'read')) return undefined;
      const session = await this.keys.sessionFor(secret);
      return session === undefined ? undefined : `${sessionCookieName}=${session}; Path=/; HttpOnly; SameSite=Strict; Max-Age=604800${secure ? '; Secure' : ''}`;
    }
    return this.token.matches(secret) ? this.token.sessionCookie(secure) : undefined;
  }

  /** Whether `principal` may act where `scope` is required. */
  static allows(principal: Principal, scope: ApiKeyScope): boolean {
    return principal.kind !== 'key' || ApiKeys.allows(principal.scopes, scope);
  }

  #keyResult(key: { id: string; name: string; scopes: ApiKeyScope[] } | undefined): CredentialCheck {
    return key ? { result: 'ok', principal: { kind: 'key', id: key.id, name: key.name, scopes: key.scopes } } : { result: 'invalid' };
  }
}
