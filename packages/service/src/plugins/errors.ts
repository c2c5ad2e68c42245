import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { FacepipeError, type Logger } from '@facepipe/core';
import type { FastifyError, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { ApiError, statusForCode, type ApiErrorCode } from '../api-errors.js';
import type { RouteMethods } from '../route-methods.js';

export interface ErrorsPluginOptions {
  log: Logger;
  /** The methods a path has, to tell 405 from 404. */
  methods: RouteMethods;
  /** For the TOO_MANY_FILES message. */
  uploadMaxFiles: number;
}

export type ErrorBody = { error: { code: ApiErrorCode | string; message: string } };

/** Fastify's and @fastify/multipart's own error codes, answered in facepipe's error shape. */
const frameworkCodes: Record<string, { status: number; code: ApiErrorCode; message?: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: 'BODY_TOO_LARGE', message: 'the request body is larger than this route accepts' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, code: 'BAD_REQUEST', message: 'the Content-Length does not match the body' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, code: 'BAD_JSON', message: 'the body is empty but the content type is application/json' },
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, code: 'BAD_JSON' },
  FST_ERR_BAD_URL: { status: 400, code: 'BAD_REQUEST' },
  FST_ERR_MAX_PARAM_LENGTH: { status: 414, code: 'BAD_REQUEST' },
  FST_ERR_ASYNC_CONSTRAINT: { status: 500, code: 'INTERNAL', message: 'internal error; see the service log' },
  FST_INVALID_MULTIPART_CONTENT_TYPE: { status: 415, code: 'NOT_MULTIPART', message: 'send multipart/form-data, one part per image' },
  FST_PARTS_LIMIT: { status: 413, code: 'TOO_MANY_PARTS', message: 'too many parts in the multipart body' },
  FST_FIELDS_LIMIT: { status: 413, code: 'TOO_MANY_PARTS', message: 'too many fields in the multipart body' },
  FST_PROTO_VIOLATION: { status: 400, code: 'BAD_MULTIPART', message: 'a field name is not allowed' },
  FST_MP_PREMATURE_CLOSE: { status: 400, code: 'BAD_MULTIPART', message: 'the request ended before the multipart body did' },
};

/**
 * Turns any error into `{status, body}`: facepipe's own errors with their status, Fastify's
 * (FST_*) mapped to named codes, other client errors as BAD_REQUEST, everything else INTERNAL.
 */
export function errorAnswer(err: Error & { code?: string; statusCode?: number }, uploadMaxFiles: number): { status: number; body: ErrorBody; headers: Record<string, string> } {
  if (err instanceof ApiError) return { status: err.status, body: err.toBody(), headers: err.headers };
  if (err instanceof FacepipeError) return { status: statusForCode(err.code), body: { error: err.toRecord() }, headers: {} };
  if (err.code === 'FST_FILES_LIMIT') {
    return { status: 413, body: { error: { code: 'TOO_MANY_FILES', message: `at most ${uploadMaxFiles} files per request (FACEPIPE_UPLOAD_MAX_FILES)` } }, headers: {} };
  }
  const known = err.code === undefined ? undefined : frameworkCodes[err.code];
  if (known) return { status: known.status, body: { error: { code: known.code, message: known.message ?? err.message } }, headers: {} };
  if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) {
    return { status: err.statusCode, body: { error: { code: err.statusCode === 413 ? 'BODY_TOO_LARGE' : 'BAD_REQUEST', message: err.message } }, headers: {} };
  }
  return { status: 500, body: { error: { code: 'INTERNAL', message: 'internal error; see the service log' } }, headers: {} };
}

/**
 * One error shape, `{"error":{"code","message"}}`, on every 4xx/5xx the service answers:
 * thrown errors, unknown routes, Fastify's own errors (bad JSON, body too large, unsupported
 * media type, multipart limits, bad URLs) and requests arriving while the service stops.
 */
const errorsPluginImpl: FastifyPluginAsync<ErrorsPluginOptions> = async (app, options) => {
  const { log, uploadMaxFiles } = options;
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  // Fastify's own "closing" answer has its own body: answer in ours instead (return503OnClosing is off).
  app.addHook('onRequest', async (_request, reply) => {
    if (closing) return reply.code(503).header('connection', 'close').send(new ApiError(503, 'SHUTTING_DOWN', 'the service is stopping; retry on another instance').toBody());
  });

  app.setErrorHandler(async (err: FastifyError, request, reply) => {
    const { status, body, headers } = errorAnswer(unsupportedBody(err, request), uploadMaxFiles);
    if (status === 500) log.error('request failed', { route: request.routeOptions.url, err });
    else if (status >= 500) log.warn('request failed', { route: request.routeOptions.url, code: body.error.code, err: body.error.message });
    return reply.code(status).headers(headers).send(body);
  });
  app.setNotFoundHandler(async (request) => {
    const path = request.url.split('?')[0] ?? '/';
    const allowed = options.methods.allowed(path);
    if (allowed.length > 0) {
      throw new ApiError(405, 'METHOD_NOT_ALLOWED', `${path} takes ${allowed.join(', ')}, not ${request.method}`, { allow: [...new Set([...allowed, ...(allowed.includes('GET') ? ['HEAD'] : [])])].join(', ') });
    }
    throw new ApiError(404, 'NOT_FOUND', `no route ${request.method} ${path}`);
  });
};

/**
 * A body type no parser takes (a raw `image/jpeg` on an upload route, say), said in the route's
 * terms: multipart routes answer NOT_MULTIPART with how to send the file, JSON routes say JSON.
 */
function unsupportedBody(err: FastifyError, request: FastifyRequest): Error & { code?: string; statusCode?: number } {
  if (err.code !== 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return err;
  const type = (request.headers['content-type'] ?? '').split(';')[0]!.trim() || 'no content type';
  const bodyType = request.routeOptions.config.bodyType;
  if (bodyType === 'multipart') {
    return new ApiError(415, 'NOT_MULTIPART', `send multipart/form-data with each image as a file part, not a raw ${type} body (curl -F file=@photo.jpg ${request.url.split('?')[0]})`);
  }
  if (bodyType === 'json') return new ApiError(415, 'UNSUPPORTED_MEDIA_TYPE', `this route takes a JSON body (application/json), not ${type}`);
  return err;
}

export const errorsPlugin = fp(errorsPluginImpl, { name: 'facepipe-errors', fastify: '5.x' });

/** Fastify's `frameworkErrors` option: errors found before routing (bad URL encoding), in the same shape. */
export function frameworkErrors(uploadMaxFiles: number) {
  return (err: FastifyError, _request: FastifyRequest, reply: FastifyReply): void => {
    const { status, body } = errorAnswer(err, uploadMaxFiles);
    void reply.code(status).send(body);
  };
}

/** Fastify's `clientErrorHandler` option: malformed HTTP, in the same shape (Node answers these before any request exists). */
export function clientErrorHandler(err: Error & { code?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, code, message]: [number, ApiErrorCode, string] =
    err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'TIMEOUT', 'the request did not arrive in time']
      : err.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'HEADERS_TOO_LARGE', 'the request headers are too large']
        : [400, 'BAD_REQUEST', 'malformed HTTP request'];
  if (!socket.writable) {
    socket.destroy(err);
    return;
  }
  const body = JSON.stringify({ error: { code, message } });
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}
