import { readFile } from 'node:fs/promises';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { Queue } from 'bullmq';
import type { FastifyInstance } from 'fastify';
import type { Logger } from '@facepipe/core';
import { type ApiError } from '../api-errors.js';
import { apiKeyScopes } from '../api-keys.js';
import { Authenticator } from '../auth.js';
import type { AuthFailureLimiter } from '../auth-failure-limiter.js';
import { Credentials } from '../credentials.js';
import { dashboard as operations } from '../contract/operations.js';
import { route } from '../contract/request-input.js';
import { dashboardCss, dashboardHtml, loginHtml } from '../dashboard-assets.js';
import { isBatchKind } from '../dashboard-batches.js';
import type { DashboardData } from '../dashboard-data.js';
import type { QueueControl } from '../commands/queue-control.js';
import { faviconPng, faviconSvg } from '../favicon.js';

/** What the dashboard plugin needs from the service. */
export interface DashboardPluginOptions {
  /** The figures the dashboard shows. */
  dashboard: DashboardData;
  /** What its buttons do to the queues. */
  queueControl: QueueControl;
  /** Every queue, for bull-board. */
  queues: readonly Queue[];
  auth: Authenticator;
  /** The token or an API key (read scope), for the page and the sign-in. */
  credentials: Credentials;
  authFailures: AuthFailureLimiter;
  /** Counts a failed authentication from `ip`. */
  authFailed: (ip: string) => void;
  /** The refusal for an address over its failed-authentication limit. */
  tooManyAttempts: (seconds: number) => ApiError;
  log: Logger;
}

/** The dashboard's paths that need no sign-in (the shell answers with the sign-in form). */
export const dashboardPublicPaths = ['/dashboard', '/dashboard/', '/dashboard/login', '/dashboard/logout', '/dashboard/app.js', '/dashboard/app.css', '/favicon.svg', '/favicon.ico'] as const;

const htmlSecurity = {
  'content-security-policy': "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; form-action 'self'",
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
};

/** The browser script, compiled from service/dashboard/app.ts by the build (its own tsconfig). */
const scriptUrl = new URL('../dashboard/app.js', import.meta.url);

/**
 * The operations dashboard: the page, its script and stylesheet, the sign-in form, the JSON it
 * polls under /dashboard/api, and bull-board under /dashboard/jobs. Authentication is the
 * auth plugin's onRequest hook; this plugin adds the sign-in form that sets the session cookie.
 */
export async function dashboardPlugin(app: FastifyInstance, options: DashboardPluginOptions): Promise<void> {
  const { dashboard, queueControl, auth, credentials, authFailures, authFailed, tooManyAttempts, log } = options;
  let dashboardJs: string;
  try {
    dashboardJs = await readFile(scriptUrl, 'utf8');
  } catch (err) {
    throw new Error(`the dashboard script ${scriptUrl.pathname} is missing: run \`npm run build\``, { cause: err });
  }

  app.get('/dashboard', async (request, reply) => {
    reply.headers({ ...htmlSecurity, 'cache-control': 'no-store' }).type('text/html; charset=utf-8');
    const checked = await credentials.check(request.headers, true);
    if (checked.result !== 'ok' || !Credentials.allows(checked.principal, 'read')) return reply.code(401).send(loginHtml('Sign in with the API token (FACEPIPE_API_TOKEN) or an API key with the read scope.'));
    return reply.send(dashboardHtml);
  });
  app.get('/dashboard/', async (_request, reply) => reply.redirect('/dashboard', 302));
  app.get('/dashboard/app.js', async (_request, reply) => reply.type('text/javascript; charset=utf-8').header('cache-control', 'no-cache').send(dashboardJs));
  app.get('/dashboard/app.css', async (_request, reply) => reply.type('text/css; charset=utf-8').header('cache-control', 'no-cache').send(dashboardCss));
  // Every page's icon: the dashboard's pages link the SVG; browsers ask for /favicon.ico on the rest.
  app.get('/favicon.svg', async (_request, reply) => reply.type('image/svg+xml').header('cache-control', 'public, max-age=86400').send(faviconSvg));
  app.get('/favicon.ico', async (_request, reply) => reply.type('image/png').header('cache-control', 'public, max-age=86400').send(await faviconPng()));
  // The link `facepipe up` prints (like Jupyter's token link): a right token signs the browser in.
  app.get<{ Querystring: { token?: string } }>('/dashboard/login', async (request, reply) => {
    reply.headers({ ...htmlSecurity, 'cache-control': 'no-store' });
    if (!auth.required) return reply.redirect('/dashboard', 303);
    const token = typeof request.query.token === 'string' ? request.query.token : '';
    if (token === '') return reply.type('text/html; charset=utf-8').send(loginHtml('Sign in with the API token (FACEPIPE_API_TOKEN).'));
    const wait = authFailures.retryAfterSeconds(request.ip);
    if (wait > 0) {
      const refused = tooManyAttempts(wait);
      return reply.code(refused.status).headers(refused.headers).type('text/html; charset=utf-8').send(loginHtml(refused.message));
    }
    const cookie = await credentials.signIn(token, request.protocol === 'https');
    if (cookie === undefined) {
      authFailed(request.ip);
      return reply.code(401).type('text/html; charset=utf-8').send(loginHtml('That link holds neither the token this service was started with nor a valid API key with the read scope.'));
    }
    return reply.header('set-cookie', cookie).redirect('/dashboard', 303);
  });
  app.post<{ Body: { token?: string } | undefined }>('/dashboard/login', async (request, reply) => {
    if (!auth.required) return reply.redirect('/dashboard', 303);
    const wait = authFailures.retryAfterSeconds(request.ip);
    if (wait > 0) {
      const refused = tooManyAttempts(wait);
      return reply.code(refused.status).headers({ ...refused.headers, ...htmlSecurity }).type('text/html; charset=utf-8').send(loginHtml(refused.message));
    }
    const token = typeof request.body?.token === 'string' ? request.body.token : '';
    const cookie = await credentials.signIn(token, request.protocol === 'https');
    if (cookie === undefined) {
      authFailed(request.ip);
      log.warn('dashboard sign-in refused', { ip: request.ip });
      return reply.code(401).headers(htmlSecurity).type('text/html; charset=utf-8').send(loginHtml('That is neither a valid API key with the read scope nor the token this service was started with.'));
    }
    return reply.header('set-cookie', cookie).redirect('/dashboard', 303);
  });
  app.post('/dashboard/logout', async (_request, reply) => reply.header('set-cookie', Authenticator.clearCookie()).redirect('/dashboard', 303));

  route(app, operations.overview, async ({ query: { kind, limit } }, _request, reply) => {
    const overview = await dashboard.overview({ kind: isBatchKind(kind) ? kind : undefined, limit });
    return reply.header('cache-control', 'no-store').send(overview);
  });
  route(app, operations.batch, async ({ params }, _request, reply) => reply.header('cache-control', 'no-store').send(await dashboard.batch(params.id)));
  route(app, operations.batchItems, async ({ params, query }, _request, reply) => {
    const items = await dashboard.batchItems(params.id, query.offset, query.limit);
    return reply.header('cache-control', 'no-store').send(items);
  });
  route(app, operations.retryBatchFailures, async ({ params }) => ({ retried: await queueControl.retryBatchFailures(params.id, params.code) }));
  route(app, operations.failures, async () => dashboard.failures());
  route(app, operations.recent, async () => ({ results: await dashboard.recentResults() }));
  route(app, operations.session, async (_input, request) => {
    const p = request.principal;
    // The token (and a service with none set) may do everything; a key, what its scopes allow.
    const scopes = apiKeyScopes.filter((scope) => Credentials.allows(p, scope));
    return { who: p.kind, keyId: p.kind === 'key' ? p.id : null, keyName: p.kind === 'key' ? p.name : null, scopes };
  });
  route(app, operations.pause, async ({ params }) => ({ queue: params.queue, paused: await queueControl.setPaused(params.queue, true) }));
  route(app, operations.resume, async ({ params }) => ({ queue: params.queue, paused: await queueControl.setPaused(params.queue, false) }));
  route(app, operations.retryFailures, async ({ params }) => ({ retried: await queueControl.retryFailures(params.queue, params.code) }));
  route(app, operations.discardFailures, async ({ params }) => ({ discarded: await queueControl.discardFailures(params.queue, params.code) }));

  // Job-level inspection: bull-board, behind the same authentication (the auth plugin).
  const board = new FastifyAdapter();
  createBullBoard({
    queues: options.queues.map((q) => new BullMQAdapter(q as never)),
    serverAdapter: board,
    options: { uiConfig: { boardTitle: 'facepipe jobs', miscLinks: [{ text: '← facepipe dashboard', url: '/dashboard' }] } },
  });
  board.setBasePath('/dashboard/jobs');
  await app.register(
    async (scope) => {
      // bull-board's page links IBM Plex from Google Fonts: no request leaves for it (the service
      // may run offline, and the page should not tell Google who looks at it); its stylesheet
      // falls back to the system's sans-serif and monospace.
      scope.addHook('onSend', async (_request, reply, payload) => (typeof payload === 'string' && /^text\/html/.test(String(reply.getHeader('content-type') ?? '')) ? withoutRemoteFonts(payload) : payload));
      await scope.register(board.registerPlugin());
    },
    { prefix: '/dashboard/jobs' },
  );
}

/** A page without its links to web font services (bull-board's Google Fonts stylesheet). */
export function withoutRemoteFonts(html: string): string {
  return html.replace(/<link[^>]*\bhref="https:\/\/fonts\.(?:googleapis|gstatic)\.com[^"]*"[^>]*>\s*/g, '');
}
