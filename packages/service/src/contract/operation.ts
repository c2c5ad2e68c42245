import type { z } from 'zod';
import type { ApiKeyScope } from '../api-keys.js';

export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** One documented answer of an operation. */
export interface ResponseSpec {
  description: string;
  /** The body; JSON unless `contentType` says otherwise. None: no body described. */
  schema?: z.ZodType;
  /** @defaultValue 'application/json' */
  contentType?: string;
  /** An example body, shown in the description (and checked against `schema` by the contract test). */
  example?: unknown;
  /** Response headers (string-valued) and what they say. */
  headers?: Record<string, string>;
}

/**
 * One HTTP operation, written once: the route registers from it (method, path, scope), its
 * inputs are parsed with its schemas (see request-input.ts), and /openapi.json is generated
 * from it (see openapi.ts).
 */
export interface Operation {
  method: Method;
  /** In OpenAPI form, e.g. `/v1/batches/{id}`. */
  path: string;
  /** The API area, for the description's grouping and the contract test's coverage. */
  tag: 'images' | 'batches' | 'people' | 'library' | 'keys' | 'webhooks' | 'dashboard' | 'service';
  summary: string;
  description?: string;
  /** The scope an API key needs; unset: `read` for GET, `admin` otherwise. */
  scope?: ApiKeyScope;
  /** Open to anyone (probes, metrics, this description). */
  public?: true;
  params?: z.ZodObject;
  query?: z.ZodObject;
  /** A JSON body, parsed before the handler runs. */
  body?: z.ZodType;
  /** A multipart/form-data body: documented here, read by the handler as it streams. */
  form?: z.ZodObject;
  responses: Record<number, ResponseSpec>;
}

/** Keeps an operation's literal types (its schemas) for the route's typed inputs. */
export const operation = <const O extends Operation>(op: O): O => op;

/** `/v1/batches/{id}` → `/v1/batches/:id` (Fastify's form). */
export const routePath = (path: string): string => path.replace(/\{(\w+)\}/g, ':$1');
