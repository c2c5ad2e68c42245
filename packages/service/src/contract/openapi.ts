import { OpenAPIRegistry, OpenApiGeneratorV31, type ResponseConfig, type RouteConfig } from '@asteasolutions/zod-to-openapi';
import type { ResponseSpec, Operation } from './operation.js';
import { operations } from './operations.js';
import { errorSchema } from './schemas.js';

const authErrors: Record<number, ResponseSpec> = {
  401: { description: 'No credentials, or wrong ones (`Authorization: Bearer <API key or FACEPIPE_API_TOKEN>`)', schema: errorSchema },
  403: { description: "The API key lacks this route's scope (FORBIDDEN)", schema: errorSchema },
  429: { description: 'This client address sent FACEPIPE_AUTH_MAX_FAILURES wrong tokens within FACEPIPE_AUTH_WINDOW_S; `Retry-After` says when to try again', schema: errorSchema },
};
const badInput: ResponseSpec = { description: 'A bad path, query or body value (BAD_REQUEST; the message names the field)', schema: errorSchema };
/** What any JSON body may meet before the route sees it (Fastify's limits and parsers). */
const jsonBodyErrors: Record<number, ResponseSpec> = {
  413: { description: 'The body is over 64 KiB (BODY_TOO_LARGE)', schema: errorSchema },
  415: { description: 'A body type the route does not take (UNSUPPORTED_MEDIA_TYPE)', schema: errorSchema },
};

/** Adds `more` to the description of an answer the operation has, or adds the answer. */
function withAnswer(responses: Record<number, ResponseSpec>, status: number, more: string): void {
  const had = responses[status];
  responses[status] = had ? { ...had, description: `${had.description}; or ${more}` } : { description: more.charAt(0).toUpperCase() + more.slice(1), schema: errorSchema };
}

function response(spec: ResponseSpec): ResponseConfig {
  return {
    description: spec.description,
    ...(spec.schema ? { content: { [spec.contentType ?? 'application/json']: { schema: spec.schema, ...(spec.example === undefined ? {} : { example: spec.example }) } } } : {}),
    ...(spec.headers ? { headers: Object.fromEntries(Object.entries(spec.headers).map(([name, description]) => [name, { description, schema: { type: 'string' as const } }])) } : {}),
  };
}

/** An operation as the generator takes it, with the answers every authenticated route and every route with inputs has. */
function routeConfig(op: Operation): RouteConfig {
  const responses: Record<number, ResponseSpec> = { ...op.responses };
  if ((op.params || op.query || op.body || op.form) && !responses[400]) responses[400] = badInput;
  if (op.body) for (const [status, spec] of Object.entries(jsonBodyErrors)) responses[Number(status)] ??= spec;
  if (!op.public) {
    Object.assign(responses, authErrors);
    withAnswer(responses, 503, 'API keys cannot be checked (Redis unreachable: UNAVAILABLE)');
  }
  withAnswer(responses, 503, 'the service is stopping (SHUTTING_DOWN)');
  return {
    method: op.method,
    path: op.path,
    tags: [op.tag],
    summary: op.summary,
    ...(op.description ? { description: op.description } : {}),
    ...(op.scope ? { 'x-facepipe-scope': op.scope } : {}),
    ...(op.public ? { security: [] } : {}),
    request: {
      ...(op.params ? { params: op.params } : {}),
      ...(op.query ? { query: op.query } : {}),
      ...(op.body ? { body: { required: true, content: { 'application/json': { schema: op.body } } } } : {}),
      ...(op.form ? { body: { required: true, content: { 'multipart/form-data': { schema: op.form } } } } : {}),
    },
    responses: Object.fromEntries(Object.entries(responses).map(([status, spec]) => [status, response(spec)])),
  };
}

/** Builds the OpenAPI 3.1 description of the given operations. */
export function generateOpenApi(ops: readonly Operation[]) {
  const registry = new OpenAPIRegistry();
  registry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer' });
  for (const op of ops) registry.registerPath(routeConfig(op));
  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'facepipe service',
      version: '1',
      description:
        'Upload photos for face detection and recognition, follow images and batches, enroll people, and watch the queues. ' +
        'When FACEPIPE_API_TOKEN is set, every route except /healthz, /readyz, /metrics and /openapi.json needs `Authorization: Bearer <credential>`: ' +
        'the token itself (every scope) or an API key (`fpk_…`, made with `facepipe keys create` or POST /v1/keys) whose scopes include the one the route names in `x-facepipe-scope` (unnamed: read for GET, admin otherwise) ' +
        '(upload, read, people, admin; admin includes all). Browsers sign in on /dashboard with either and get a session cookie instead. ' +
        'Every 4xx/5xx answer has the body `{"error": {"code", "message"}}`; uploads add per-file details in `files`. ' +
        'Generated from the zod schemas the routes validate with (packages/service/src/contract/).',
    },
    security: [{ bearer: [] }],
  });
}

/** The service's OpenAPI 3.1 description, served at /openapi.json. */
export const openApiDocument = generateOpenApi(operations);
