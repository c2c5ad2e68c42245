import { FacepipeError, isImageId, parseDuration, ReindexSchedules, type ScheduledReindexKind } from '@facepipe/core';
import { syncResultDocuments, type FaceLibrary, type LibraryChange, type PersonSummary } from '@facepipe/face-index';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { searchLibrary } from '@facepipe/producer';
import type { Producer } from '@facepipe/producer';
import { ApiError } from '../api-errors.js';
import type { DashboardData } from '../dashboard-data.js';
import type { LibraryAccess } from '../library-access.js';
import { multipartParts } from '../multipart-parts.js';

export interface LibraryPluginOptions {
  producer: Producer;
  access: LibraryAccess;
  /** The gallery (enrolled faces per person), merged into the people list. */
  dashboard: DashboardData;
  /** Largest photo POST /v1/search takes (FACEPIPE_UPLOAD_MAX_BYTES). */
  maxBytes: number;
}

/** Most faces one page of a person's faces holds. */
const maxPageSize = 500;
const people = { config: { scope: 'people' as const } };
const admin = { config: { scope: 'admin' as const } };

type NameParams = { Params: { name: string } };

/**
 * The face index over HTTP: people (list, get, rename/hide, merge, delete, their faces paged),
 * clusters (list, name one), a face moved to a person or to nobody, search by photo, and the
 * scheduled re-index jobs. Reads need the `read` scope, changes to people, clusters and faces
 * `people`, schedules `admin`. Every change brings the result documents concerned in step.
 */
export const libraryPlugin: FastifyPluginAsync<LibraryPluginOptions> = async (app, options) => {
  const { producer, access, dashboard, maxBytes } = options;
  const store = producer.ctx.store;
  const schedules = new ReindexSchedules(producer.ctx.queues.maintenance);
  app.addHook('onClose', async () => access.close());

  /** The change's images' result documents, rewritten to the index's names. */
  const synced = async (library: FaceLibrary, change: LibraryChange) => syncResultDocuments(store, library.index, change.imageIds);
  const personOut = (p: PersonSummary) => ({ id: p.id, name: p.name, hidden: p.hidden, faceCount: p.faces, examples: p.examples });
  const summary = async (library: FaceLibrary, name: string) => {
    const found = (await library.people({ includeHidden: true })).find((p) => p.name === name);
    if (!found) throw new FacepipeError('OBJECT_NOT_FOUND', `nobody is called "${name}"`);
    return personOut(found);
  };

  // ---- people ----
  app.get<{ Querystring: { hidden?: string } }>('/v1/people', async (request) => {
    const includeHidden = flag(request.query.hidden, 'hidden');
    const gallery = await dashboard.people();
    const enrolled = new Map(gallery.people.map((p) => [p.name, p.faces]));
    const listed = access.configured ? (await (await access.library()).people({ includeHidden })).map((p) => ({ ...personOut(p), faces: enrolled.get(p.name) ?? [] })) : [];
    const inIndex = new Set(listed.map((p) => p.name));
    // People only the gallery knows (no face index, or enrolled before it existed) stay listed.
    const galleryOnly = gallery.people.filter((p) => !inIndex.has(p.name)).map((p) => ({ name: p.name, faces: p.faces, faceCount: p.faces.length }));
    return { galleryVersion: gallery.galleryVersion, people: [...listed, ...galleryOnly] };
  });

  app.get<NameParams>('/v1/people/:name', async (request) => summary(await access.library(), request.params.name));

  app.patch<NameParams & { Body: unknown }>('/v1/people/:name', people, async (request) => {
    const body = jsonObject(request.body, '{"name": "<new name>"} and/or {"hidden": true|false}', ['name', 'hidden']);
    if (body.name === undefined && body.hidden === undefined) throw new ApiError(400, 'BAD_REQUEST', 'give "name" (to rename) and/or "hidden" (true or false)');
    if (body.name !== undefined && typeof body.name !== 'string') throw new ApiError(400, 'BAD_REQUEST', 'name: a string');
    if (body.hidden !== undefined && typeof body.hidden !== 'boolean') throw new ApiError(400, 'BAD_REQUEST', 'hidden: true or false');
    const library = await access.library();
    let name = request.params.name;
    let resultsUpdated = 0;
    if (body.name !== undefined && body.name !== name) {
      const change = await library.rename(name, body.name).catch(conflictOnExisting);
      resultsUpdated = await synced(library, change);
      name = body.name;
    }
    if (body.hidden !== undefined) await library.setHidden(name, body.hidden);
    return { ...(await summary(library, name)), resultsUpdated };
  });

  app.post<NameParams & { Body: unknown }>('/v1/people/:name/merge', people, async (request) => {
    const body = jsonObject(request.body, '{"into": "<name of the person to keep>"}', ['into']);
    if (typeof body.into !== 'string') throw new ApiError(400, 'BAD_REQUEST', 'into: the name of the person who keeps the faces');
    const library = await access.library();
    const change = await library.merge(request.params.name, body.into);
    return { merged: request.params.name, into: await summary(library, body.into), faces: change.faces, resultsUpdated: await synced(library, change) };
  });

  app.delete<NameParams>('/v1/people/:name', people, async (request) => {
    const library = await access.library();
    const change = await library.delete(request.params.name);
    return { name: request.params.name, deleted: true, faces: change.faces, resultsUpdated: await synced(library, change) };
  });

  app.get<NameParams & { Querystring: { limit?: string; cursor?: string } }>('/v1/people/:name/faces', async (request) => {
    const limit = intParam(request.query.limit, 'limit', 1, maxPageSize) ?? 100;
    const cursor = request.query.cursor ?? null;
    if (cursor !== null && !/^\d{1,19}$/.test(cursor)) throw new ApiError(400, 'BAD_REQUEST', 'cursor: the nextCursor of the previous page');
    const library = await access.library();
    // One more than asked says whether another page follows.
    const page = await library.facesOf(request.params.name, cursor, limit + 1);
    const faces = page.slice(0, limit).map((f) => ({ faceId: f.id, imageId: f.imageId, face: f.faceIndex, source: f.source, how: f.personSource, distance: f.matchDistance }));
    return { name: request.params.name, faces, nextCursor: page.length > limit ? faces[faces.length - 1]!.faceId : null };
  });

  // ---- clusters ----
  app.get('/v1/clusters', async () => {
    const clusters = await (await access.library()).clusters();
    return { clusters: clusters.map((c) => ({ id: c.id, faces: c.faces, embedVersion: c.embedVersion, samples: c.samples.map((s) => ({ imageId: s.imageId, face: s.faceIndex, source: s.source })) })) };
  });

  app.post<{ Params: { id: string }; Body: unknown }>('/v1/clusters/:id/name', people, async (request) => {
    const body = jsonObject(request.body, '{"name": "<the person\'s name>"}', ['name']);
    if (typeof body.name !== 'string') throw new ApiError(400, 'BAD_REQUEST', "name: the person's name");
    if (!/^\d{1,19}$/.test(request.params.id)) throw new FacepipeError('OBJECT_NOT_FOUND', `no cluster ${request.params.id}`);
    const library = await access.library();
    const change = await library.nameCluster(request.params.id, body.name);
    return { cluster: request.params.id, person: await summary(library, body.name), faces: change.faces, resultsUpdated: await synced(library, change) };
  });

  // ---- one face ----
  app.put<{ Params: { imageId: string; face: string }; Body: unknown }>('/v1/faces/:imageId/:face/person', people, async (request) => {
    const { imageId } = request.params;
    if (!isImageId(imageId)) throw new ApiError(400, 'BAD_REQUEST', 'image ids are 64 lowercase hex digits (the sha256 of the bytes)');
    const face = intParam(request.params.face, 'face', 0, 10_000)!;
    const body = jsonObject(request.body, '{"name": "<person>"} or {"name": null} (nobody)', ['name']);
    if (!(typeof body.name === 'string' || body.name === null)) throw new ApiError(400, 'BAD_REQUEST', 'name: the person to move the face to, or null for nobody');
    const library = await access.library();
    const by = request.principal.kind === 'key' ? `key:${request.principal.name}` : null;
    const { face: state, change } = await library.labelFace(imageId, face, body.name, by);
    return { imageId, face, name: state.name, how: state.personSource, cluster: state.clusterId, faces: change.faces, resultsUpdated: await synced(library, change) };
  });

  // ---- search by photo ----
  app.post<{ Querystring: { limit?: string; face?: string } }>('/v1/search', { config: { scope: 'read' } }, async (request) => {
    const upload = await searchUpload(request, maxBytes);
    const limit = intParam(upload.fields.limit ?? request.query.limit, 'limit', 1, 1000) ?? 10;
    const face = intParam(upload.fields.face ?? request.query.face, 'face', 0, 10_000);
    const library = await access.library();
    const search = await access.photoSearch();
    const probe = await search.probe(upload.bytes, face);
    return { face: probe.face, faces: probe.faces, embedVersion: probe.embedVersion, hits: await searchLibrary(library, probe, limit) };
  });

  // ---- scheduled re-index ----
  app.post<{ Body: unknown }>('/v1/schedules', admin, async (request, reply) => {
    const body = jsonObject(request.body, '{"id": "nightly", "kind": "stale", "every": "6h"} or {"id", "kind", "cron": "0 3 * * *", "tz"?}, and "runNow"?', ['id', 'kind', 'every', 'cron', 'tz', 'runNow']);
    let everyMs: number | undefined;
    if (typeof body.every === 'number') everyMs = body.every;
    else if (typeof body.every === 'string') {
      everyMs = parseDuration(body.every);
      if (everyMs === undefined) throw new ApiError(400, 'BAD_REQUEST', `every: "${body.every}" is not a duration (90s, 15m, 6h, 1d, or ms)`);
    } else if (body.every !== undefined) throw new ApiError(400, 'BAD_REQUEST', 'every: a duration such as "6h", or milliseconds');
    for (const k of ['id', 'kind', 'cron', 'tz'] as const) {
      if (body[k] !== undefined && typeof body[k] !== 'string') throw new ApiError(400, 'BAD_REQUEST', `${k}: a string`);
    }
    if (body.runNow !== undefined && typeof body.runNow !== 'boolean') throw new ApiError(400, 'BAD_REQUEST', 'runNow: true or false');
    const info = await schedules.upsert({ id: body.id as string, kind: body.kind as ScheduledReindexKind, everyMs, cron: body.cron as string | undefined, tz: body.tz as string | undefined, runNow: body.runNow as boolean | undefined });
    return reply.code(201).send(info);
  });

  app.get('/v1/schedules', admin, async () => ({ schedules: await schedules.list() }));

  app.delete<{ Params: { id: string } }>('/v1/schedules/:id', admin, async (request) => {
    if (!(await schedules.remove(request.params.id))) throw new ApiError(404, 'NOT_FOUND', `no schedule ${request.params.id}`);
    return { id: request.params.id, deleted: true };
  });
};

/** A JSON object body with only the given keys. */
function jsonObject(body: unknown, shape: string, keys: readonly string[]): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ApiError(400, 'BAD_REQUEST', `send JSON: ${shape}`);
  const unknown = Object.keys(body).filter((k) => !keys.includes(k));
  if (unknown.length > 0) throw new ApiError(400, 'BAD_REQUEST', `unknown field ${unknown.map((k) => `"${k}"`).join(', ')} (fields: ${keys.join(', ')})`);
  return body as Record<string, unknown>;
}

function intParam(text: string | undefined, name: string, min: number, max: number): number | undefined {
  if (text === undefined) return undefined;
  const n = /^\d{1,9}$/.test(text) ? Number(text) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) throw new ApiError(400, 'BAD_REQUEST', `${name}: a whole number from ${min} to ${max}`);
  return n;
}

function flag(text: string | undefined, name: string): boolean {
  if (text === undefined || text === 'false' || text === '0') return false;
  if (text === 'true' || text === '1' || text === '') return true;
  throw new ApiError(400, 'BAD_REQUEST', `${name}: true or false`);
}

/** A rename onto a name that exists is a conflict (merge is the way), not a bad request. */
function conflictOnExisting(err: unknown): never {
  if (err instanceof FacepipeError && err.code === 'INVALID_PAYLOAD' && /already exists/.test(err.message)) throw new ApiError(409, 'CONFLICT', err.message.replace(/facepipe people merge "(.*)" "(.*)"$/, 'POST /v1/people/$1/merge {"into": "$2"}'));
  throw err;
}

/** The one photo of a search request (any field name) and its short fields (`face`, `limit`). */
async function searchUpload(request: FastifyRequest, maxBytes: number): Promise<{ bytes: Buffer; fields: { face?: string; limit?: string } }> {
  const fields: { face?: string; limit?: string } = {};
  let bytes: Buffer | undefined;
  for await (const part of multipartParts(request, 1, maxBytes)) {
    if (part.type === 'field') {
      if (part.fieldname !== 'face' && part.fieldname !== 'limit') throw new ApiError(400, 'BAD_REQUEST', `unknown field "${part.fieldname}" (fields: face, limit, and one photo)`);
      fields[part.fieldname] = String(part.value);
      continue;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of part.file) chunks.push(chunk as Buffer);
    if (part.file.truncated) throw new FacepipeError('FILE_TOO_LARGE', `the photo is larger than ${maxBytes} bytes (FACEPIPE_UPLOAD_MAX_BYTES)`);
    bytes = Buffer.concat(chunks);
  }
  if (bytes === undefined) throw new ApiError(400, 'NO_FILES', 'send one photo as a multipart/form-data file part');
  return { bytes, fields };
}
