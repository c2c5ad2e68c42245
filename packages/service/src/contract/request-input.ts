import type { FastifyInstance, FastifyReply, FastifyRequest, HTTPMethods } from 'fastify';
import { z } from 'zod';
import { ApiError } from '../api-errors.js';
import { routePath, type Operation } from './operation.js';

type Parsed<S> = S extends z.ZodType ? z.output<S> : undefined;

/** A route's inputs, read with its operation's schemas. */
export interface RouteInput<O extends Operation> {
  params: Parsed<O['params']>;
  query: Parsed<O['query']>;
  body: Parsed<O['body']>;
}

/** What a handler may answer: its operation's 200 body, or a reply it sent itself (other statuses, streams). */
type Answer<O extends Operation> = O['responses'] extends { 200: { schema: infer S extends z.ZodType } } ? z.input<S> | FastifyReply : FastifyReply | unknown;

/**
 * The one parser of request inputs: path parameters, the query string and JSON bodies are read
 * with the operation's zod schemas, and a bad value is a 400 BAD_REQUEST that names the field,
 * in the service's error shape (`{"error": {"code", "message"}}`).
 */
export function parseWith<S extends z.ZodType>(schema: S, value: unknown, example?: unknown): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new ApiError(400, 'BAD_REQUEST', describeIssue(parsed.error.issues[0]!, schema, example));
}

function describeIssue(issue: z.core.$ZodIssue, schema: z.ZodType, example: unknown): string {
  if (issue.path.length === 0 && issue.code === 'invalid_type') return example === undefined ? issue.message : `send JSON: ${JSON.stringify(example)}`;
  if (issue.code === 'unrecognized_keys') {
    const fields = schema instanceof z.ZodObject ? ` (fields: ${Object.keys(schema.shape).join(', ')})` : '';
    return `unknown field ${issue.keys.map((k) => `"${k}"`).join(', ')}${fields}`;
  }
  return issue.path.length === 0 ? issue.message : `${issue.path.join('.')}: ${issue.message}`;
}

/** Reads a request's inputs with its operation's schemas (path, then query, then body). */
export function parseInput<O extends Operation>(op: O, request: FastifyRequest): RouteInput<O> {
  return {
    params: (op.params ? parseWith(op.params, request.params ?? {}) : undefined) as Parsed<O['params']>,
    query: (op.query ? parseWith(op.query, request.query ?? {}) : undefined) as Parsed<O['query']>,
    body: (op.body ? parseWith(op.body, request.body, op.body.meta()?.example) : undefined) as Parsed<O['body']>,
  };
}

/** Registers the route of an operation: its method, path and scope, its inputs parsed before `handler` runs. */
export function route<O extends Operation>(
  app: FastifyInstance,
  op: O,
  handler: (input: RouteInput<O>, request: FastifyRequest, reply: FastifyReply) => Promise<Answer<O>>,
): void {
  app.route({
    method: op.method.toUpperCase() as HTTPMethods,
    url: routePath(op.path),
    config: { ...(op.scope ? { scope: op.scope } : {}), ...(op.form ? { bodyType: 'multipart' as const } : op.body ? { bodyType: 'json' as const } : {}) },
    handler: async (request, reply) => {
      if (op.body) requireJson(request, op.body.meta()?.example);
      return handler(parseInput(op, request), request, reply);
    },
  });
}

/**
 * A JSON route takes JSON only: a form body (which the dashboard's sign-in parser would read
 * into fields) is refused, as the description says, instead of being taken as if it were JSON.
 */
function requireJson(request: FastifyRequest, example: unknown): void {
  const type = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === '' || type === 'application/json' || type.endsWith('+json')) return;
  const send = example === undefined ? 'send application/json' : `send application/json, e.g. ${JSON.stringify(example)}`;
  throw new ApiError(415, 'UNSUPPORTED_MEDIA_TYPE', `this route takes a JSON body, not ${type}: ${send}`);
}
