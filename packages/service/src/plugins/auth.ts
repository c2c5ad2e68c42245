import type { Logger } from '@facepipe/core';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import fp from 'fastify-plugin';
import { ApiError } from '../api-errors.js';
import type { ApiKeyScope } from '../api-keys.js';
import type { AuthFailureLimiter } from '../auth-failure-limiter.js';
import { Credentials, type Principal } from '../credentials.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The scope a key needs for this route; unset: `read` for GET/HEAD, `admin` otherwise. */
    scope?: ApiKeyScope;
    /** The body the route's operation takes (set by route()): an unsupported type is answered in its terms. */
    bodyType?: 'json' | 'multipart';
  }
  interface FastifyRequest {
    /** Who made the request (set by the auth plugin; `open` on public routes or without a token). */
    principal: Principal;
  }
}

export interface AuthPluginOptions {
  credentials: Credentials;
  limiter: AuthFailureLimiter;
  log: Logger;
  windowMs: number;
  /** Paths anyone may call (probes, metrics, the API description, the dashboard shell and sign-in). */
  publicPaths: ReadonlySet<string>;
}

/** The 429 of a client address that failed authentication too often. */
export const tooManyAttempts = (seconds: number) =>
  new ApiError(429, 'TOO_MANY_ATTEMPTS', `too many failed attempts to authenticate from this address; try again in ${seconds} s`, { 'retry-after': String(seconds) });

/**
 * Authentication and scopes for every route: the bootstrap token (FACEPIPE_API_TOKEN, every
 * scope), an API key (its scopes; `admin` includes all), or a dashboard session cookie of either.
 * Wrong credentials count towards the per-address failure limit (429 when reached).
 */
const authPluginImpl: FastifyPluginAsync<AuthPluginOptions> = async (app, options) => {
  const { credentials, limiter, log, publicPaths } = options;
  const open: Principal = { kind: 'open' };
  const principals = new WeakMap<object, Principal>();
  app.decorateRequest('principal', {
    getter(this: object) {
      return principals.get(this) ?? open;
    },
    setter(this: object, value: Principal) {
      principals.set(this, value);
    },
  });

  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-content-type-options', 'nosniff');
    const path = request.url.split('?')[0] ?? '/';
    if (publicPaths.has(path) || !credentials.required) return;
    // Answered here rather than thrown: plugins with error handlers of their own (bull-board)
    // would turn a thrown error into a 500.
    const answer = (err: ApiError): FastifyReply => reply.code(err.status).headers(err.headers).send(err.toBody());
    const refuse = (message: string) => answer(new ApiError(401, 'UNAUTHORIZED', message, { 'www-authenticate': 'Bearer realm="facepipe"' }));
    const wait = limiter.retryAfterSeconds(request.ip);
    if (wait > 0) return answer(tooManyAttempts(wait));
    let checked;
    try {
      checked = await credentials.check(request.headers, true);
    } catch (err) {
      log.warn('could not check an API key', { err: (err as Error).message });
      return answer(new ApiError(503, 'UNAVAILABLE', 'API keys cannot be checked right now (Redis unreachable); retry later', { 'retry-after': '5' }));
    }
    if (checked.result === 'invalid') {
      if (limiter.recordFailure(request.ip)) log.warn('client refused after repeated failed authentication', { ip: request.ip, windowS: options.windowMs / 1000 });
    }
    if (checked.result !== 'ok') return refuse(checked.result === 'missing' ? 'this route needs Authorization: Bearer <API key or FACEPIPE_API_TOKEN>' : 'the key or token is not valid');
    // A browser session may change things only from the service's own pages.
    if (request.headers.authorization === undefined && request.method !== 'GET' && request.method !== 'HEAD') {
      const origin = request.headers.origin;
      if (origin !== undefined && origin !== `${request.protocol}://${request.headers.host}`) return refuse('cross-origin request refused');
    }
    const principal = checked.principal;
    const scope = request.routeOptions.config?.scope ?? (request.method === 'GET' || request.method === 'HEAD' ? 'read' : 'admin');
    if (!Credentials.allows(principal, scope)) {
      const has = principal.kind === 'key' ? principal.scopes.join(', ') : '';
      return answer(new ApiError(403, 'FORBIDDEN', `this route needs a key with the "${scope}" scope; this key has ${has}`));
    }
    request.principal = principal;
  });
};

export const authPlugin = fp(authPluginImpl, { name: 'facepipe-auth', fastify: '5.x', dependencies: ['facepipe-errors'] });

/** Counts a failed sign-in on the dashboard form (the same limiter as the API's). */
export function recordFailedSignIn(limiter: AuthFailureLimiter, log: Logger, ip: string, windowMs: number): void {
  if (limiter.recordFailure(ip)) log.warn('client refused after repeated failed authentication', { ip, windowS: windowMs / 1000 });
}
