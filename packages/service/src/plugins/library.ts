import { FacepipeError, parseDuration, type ReindexSchedules, type ScheduledReindexKind } from '@facepipe/core';
import type { FaceLibrary, LibraryChange, PersonSummary } from '@facepipe/face-index';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { Principal } from '../credentials.js';
import { library as operations } from '../contract/operations.js';
import { parseWith, route } from '../contract/request-input.js';
import { listPage, sortableNumber } from '../list-page.js';
import { searchLibrary, type SearchProbe } from '@facepipe/producer';
import { ApiError } from '../api-errors.js';
import type { LibraryAccess } from '../library-access.js';
import type { ErasureCommands } from '../erasures.js';
import type { GalleryReads } from '../read-models/gallery-reads.js';
import { multipartParts } from '../multipart-parts.js';

export interface LibraryPluginOptions {
  access: LibraryAccess;
  /** The gallery (enrolled faces per person), merged into the people list. */
  gallery: GalleryReads;
  /** Erasure of people, and the erasure log. */
  erasures: ErasureCommands;
  /** The scheduled re-index jobs. */
  schedules: ReindexSchedules;
  /** Largest photo POST /v1/search takes (FACEPIPE_UPLOAD_MAX_BYTES). */
  maxBytes: number;
}

/**
 * The face index over HTTP: people (list, get, rename/hide, merge, delete, their faces paged),
 * clusters (list, name one), a face moved to a person or to nobody, search by photo, and the
 * scheduled re-index jobs. Reads need the `read` scope, changes to people, clusters and faces
 * `people`, schedules `admin`. Every change brings the result documents concerned in step.
 */
export const libraryPlugin: FastifyPluginAsync<LibraryPluginOptions> = async (app, options) => {
  const { access, gallery: galleryReads, schedules, erasures, maxBytes } = options;
  /** The deployment's match threshold (FACEPIPE_MATCH_TOLERANCE): the one that names faces. */
  const tolerance = access.config.classify.tolerance;
  app.addHook('onClose', async () => access.close());

  /** The change's images' result documents, rewritten to the index's names. */
  const synced = async (library: FaceLibrary, change: LibraryChange) => access.syncResults(library, change);
  const personOut = (p: PersonSummary) => ({
    id: p.id,
    name: p.name,
    hidden: p.hidden,
    faceCount: p.faces,
    examples: p.examples,
    cover: p.cover && { faceId: p.cover.faceId, imageId: p.cover.imageId, face: p.cover.faceIndex, box: p.cover.box },
  });
  const summary = async (library: FaceLibrary, name: string) => personOut(await library.person(name));

  // ---- people ----
  route(app, operations.people, async ({ query }) => {
    const includeHidden = query.hidden;
    const gallery = await galleryReads.people();
    const enrolled = new Map(gallery.people.map((p) => [p.name, p.faces]));
    const listed = access.configured ? (await (await access.library()).people({ includeHidden })).map((p) => ({ ...personOut(p), faces: enrolled.get(p.name) ?? [] })) : [];
    const inIndex = new Set(listed.map((p) => p.name));
    // People only the gallery knows (no face index, or enrolled before it existed) stay listed.
    const galleryOnly = gallery.people.filter((p) => !inIndex.has(p.name)).map((p) => ({ name: p.name, faces: p.faces, faceCount: p.faces.length }));
    const { page, nextCursor } = listPage([...listed, ...galleryOnly], (p) => p.name, query.limit, query.cursor);
    return { galleryVersion: gallery.galleryVersion, people: page, nextCursor };
  });

  route(app, operations.person, async ({ params }) => summary(await access.library(), params.name));

  route(app, operations.update, async ({ params, body }, request) => {
    const library = await access.library();
    let name = params.name;
    let resultsUpdated = 0;
    if (body.name !== undefined && body.name !== name) {
      const change = await library.rename(name, body.name, actor(request.principal)).catch(conflictOnExisting);
      resultsUpdated = await synced(library, change);
      name = body.name;
    }
    if (body.hidden !== undefined) await library.setHidden(name, body.hidden, actor(request.principal));
    return { ...(await summary(library, name)), resultsUpdated };
  });

  route(app, operations.merge, async ({ params, body }, request) => {
    const library = await access.library();
    const change = await library.merge(params.name, body.into, actor(request.principal));
    return { merged: params.name, into: await summary(library, body.into), faces: change.faces, resultsUpdated: await synced(library, change) };
  });

  route(app, operations.remove, async ({ params, query }, request) => {
    const library = await access.library();
    if (query.erase !== undefined) {
      const faces = (await library.people({ includeHidden: true })).find((p) => p.name === params.name)?.faces ?? 0;
      const outcome = await erasures.erasePerson(params.name, query.erase, request.principal);
      return {
        name: params.name,
        deleted: true as const,
        faces,
        resultsUpdated: 0,
        erased: { mode: query.erase, imagesErased: outcome.imagesErased, imagesKept: outcome.imagesKept, erasure: outcome.record },
      };
    }
    const change = await library.delete(params.name, actor(request.principal));
    return { name: params.name, deleted: true as const, faces: change.faces, resultsUpdated: await synced(library, change) };
  });

  route(app, operations.faces, async ({ params, query: { limit, cursor, order } }) => {
    const library = await access.library();
    const byConfidence = order === 'confidence';
    if (cursor !== undefined && cursor.includes('_') !== byConfidence) throw new ApiError(400, 'BAD_REQUEST', 'cursor: the nextCursor of the previous page of the same order');
    // One more than asked says whether another page follows.
    const page = byConfidence ? await library.facesByConfidence(params.name, confidenceCursor(cursor), limit + 1) : await library.facesOf(params.name, cursor ?? null, limit + 1);
    const shown = page.slice(0, limit);
    const faces = shown.map((f) => ({ faceId: f.id, imageId: f.imageId, face: f.faceIndex, source: f.source, how: f.personSource, distance: f.matchDistance, box: f.box }));
    const last = shown[shown.length - 1];
    const next = page.length > limit && last ? (byConfidence ? `${rankOf(last.personSource)}_${last.matchDistance ?? 0}_${last.id}` : last.id) : null;
    return { name: params.name, faces, nextCursor: next };
  });

  route(app, operations.setCover, async ({ params, body }, request) => {
    const library = await access.library();
    return personOut(await library.setCover(params.name, body.imageId, body.face, actor(request.principal)));
  });

  route(app, operations.audit, async ({ query: { limit, cursor } }) => {
    const library = await access.library();
    const page = await library.audit(cursor ?? null, limit + 1);
    const newest = await library.newestUndoable();
    const entries = page.slice(0, limit).map((e) => ({ id: e.id, at: e.at, actor: e.actor, action: e.action, summary: e.summary, undoneAt: e.undoneAt, undoneBy: e.undoneBy, undoable: e.id === newest?.id }));
    return { entries, nextCursor: page.length > limit ? entries[entries.length - 1]!.id : null };
  });

  route(app, operations.undo, async ({ body }, request) => {
    const library = await access.library();
    const outcome = await library.undo(body.id, actor(request.principal));
    if (outcome.kind === 'nothing') throw new ApiError(404, 'NOT_FOUND', 'nothing left to undo');
    if (outcome.kind === 'stale') throw new ApiError(409, 'CONFLICT', `the newest operation is now #${outcome.newest.id} (${outcome.newest.summary}): reload and undo that one first`);
    if (outcome.kind === 'conflict') throw new ApiError(409, 'CONFLICT', `#${outcome.entry.id} (${outcome.entry.summary}) cannot be undone: ${outcome.message}`);
    const e = outcome.entry;
    return {
      undone: { id: e.id, at: e.at, actor: e.actor, action: e.action, summary: e.summary, undoneAt: e.undoneAt, undoneBy: e.undoneBy, undoable: false },
      faces: outcome.change.faces,
      resultsUpdated: await synced(library, outcome.change),
    };
  });

  route(app, operations.erasures, async ({ query }) => erasures.log(query.limit, query.cursor));

  // ---- clusters ----
  route(app, operations.clusters, async ({ query: { limit, cursor } }) => {
    const after = cursor === undefined ? undefined : { faces: Number(cursor.split('-')[0]), id: cursor.split('-')[1]! };
    // One more than asked says whether another page follows.
    const page = await (await access.library()).clusters({ limit: limit + 1, after });
    const clusters = page.slice(0, limit);
    const last = clusters[clusters.length - 1];
    return {
      clusters: clusters.map((c) => ({ id: c.id, faces: c.faces, embedVersion: c.embedVersion, samples: c.samples.map((s) => ({ imageId: s.imageId, face: s.faceIndex, source: s.source })) })),
      nextCursor: page.length > limit && last ? `${last.faces}-${last.id}` : null,
    };
  });

  route(app, operations.nameCluster, async ({ params, body }, request) => {
    if (!/^\d{1,19}$/.test(params.id)) throw new FacepipeError('OBJECT_NOT_FOUND', `no cluster ${params.id}`);
    const library = await access.library();
    const change = await library.nameCluster(params.id, body.name, actor(request.principal));
    return { cluster: params.id, person: await summary(library, body.name), faces: change.faces, resultsUpdated: await synced(library, change) };
  });

  route(app, operations.previewClusterName, async ({ params, query }) => {
    const library = await access.library();
    const preview = await library.previewNameCluster(params.id, query.name);
    return {
      cluster: params.id,
      person: preview.person,
      faces: preview.faces,
      changes: preview.changes.map((f) => ({ imageId: f.imageId, face: f.faceIndex, source: f.source, before: f.before, after: f.after })),
    };
  });

  route(app, operations.clusterFaces, async ({ params, query: { limit, cursor } }) => {
    const library = await access.library();
    const page = await library.facesOfCluster(params.id, cursor ?? null, limit + 1);
    const faces = page.slice(0, limit).map((f) => ({ faceId: f.id, imageId: f.imageId, face: f.faceIndex, source: f.source, box: f.box }));
    return { cluster: params.id, faces, nextCursor: page.length > limit ? faces[faces.length - 1]!.faceId : null };
  });

  route(app, operations.ignoreCluster, async ({ params, body }, request) => {
    const library = await access.library();
    const done = await library.ignoreCluster(params.id, body.ignored, actor(request.principal));
    return { cluster: done.clusterId, ignored: done.ignored };
  });

  // ---- one face ----
  route(app, operations.rejectFace, async ({ params: { imageId, face } }, request) => {
    const library = await access.library();
    const { face: state, was, change } = await library.rejectFace(imageId, face, actor(request.principal));
    return { imageId, face, was, name: state.name, cluster: state.clusterId, faces: change.faces, resultsUpdated: await synced(library, change) };
  });

  route(app, operations.notAFace, async ({ params: { imageId, face } }, request) => {
    const library = await access.library();
    const { was, change } = await library.markNotAFace(imageId, face, actor(request.principal));
    return { imageId, face, was, notAFace: true as const, faces: change.faces, resultsUpdated: await synced(library, change) };
  });

  route(app, operations.labelFace, async ({ params: { imageId, face }, body }, request) => {
    const library = await access.library();
    const by = request.principal.kind === 'key' ? `key:${request.principal.name}` : null;
    const { face: state, change } = await library.labelFace(imageId, face, body.name, by);
    return { imageId, face, name: state.name, how: state.personSource as 'hand', cluster: state.clusterId, faces: change.faces, resultsUpdated: await synced(library, change) };
  });

  // ---- suggestions ----
  route(app, operations.suggestions, async ({ query: { limit, cursor } }) => {
    const library = await access.library();
    const page = await library.suggestions(cursor ?? null, limit + 1);
    const suggestions = page.slice(0, limit).map((f) => ({ faceId: f.id, imageId: f.imageId, face: f.faceIndex, source: f.source, box: f.box, name: f.name, distance: f.distance }));
    return { suggestions, nextCursor: page.length > limit ? suggestions[suggestions.length - 1]!.faceId : null };
  });

  route(app, operations.answerSuggestion, async ({ params: { imageId, face }, body }, request) => {
    const library = await access.library();
    const by = request.principal.kind === 'key' ? `key:${request.principal.name}` : null;
    const { face: state, change } = await library.answerSuggestion(imageId, face, body.accept, by);
    return { imageId, face, accepted: body.accept, name: state.name, faces: change.faces, resultsUpdated: await synced(library, change) };
  });

  // ---- search by photo ----
  route(app, operations.search, async ({ query }, request) => {
    const upload = await searchUpload(request, maxBytes);
    // Form fields win over the query string; both are read by the same schema.
    const fields = parseWith(operations.search.query, upload.fields);
    const limit = fields.limit ?? query.limit ?? 10;
    const face = fields.face ?? query.face;
    const threshold = fields.threshold ?? query.threshold;
    const library = await access.library();
    const search = await access.photoSearch();
    const probe = await search.probe(upload.bytes, face);
    // Nearest first: the hits within the threshold are a prefix of the `limit` nearest.
    const hits = (await searchLibrary(library, probe, limit)).filter((h) => threshold === undefined || h.distance <= threshold);
    return { face: probe.face, faces: probe.faces, embedVersion: probe.embedVersion, ...(threshold === undefined ? {} : { threshold }), hits };
  });

  // ---- compare two faces ----
  route(app, operations.compare, async ({ query }, request) => {
    const upload = await compareUpload(request, maxBytes);
    // Form fields win over the query string; both are read by the same schema.
    const fields = { ...query, ...stripUndefined(parseWith(operations.compare.query, upload.fields)) };
    const search = await access.photoSearch();
    const compared = await search.compare(upload.source, upload.target, { source: fields.sourceFace, target: fields.targetFace });
    const threshold = fields.threshold ?? tolerance;
    const face = (p: SearchProbe) => ({ face: p.face, faces: p.faces, box: p.box, score: Math.round(p.score * 1e4) / 1e4 });
    return {
      same: compared.distance <= threshold,
      distance: compared.distance,
      threshold,
      thresholdFrom: fields.threshold === undefined ? ('deployment' as const) : ('request' as const),
      source: face(compared.source),
      target: face(compared.target),
      embedVersion: compared.source.embedVersion,
    };
  });

  // ---- scheduled re-index ----
  route(app, operations.createSchedule, async ({ body }, _request, reply) => {
    let everyMs: number | undefined;
    if (typeof body.every === 'number') everyMs = body.every;
    else if (typeof body.every === 'string') {
      everyMs = parseDuration(body.every);
      if (everyMs === undefined) throw new ApiError(400, 'BAD_REQUEST', `every: "${body.every}" is not a duration (90s, 15m, 6h, 1d, or ms)`);
    }
    const info = await schedules.upsert({ id: body.id, kind: body.kind as ScheduledReindexKind, everyMs, cron: body.cron, tz: body.tz, runNow: body.runNow });
    return reply.code(201).send(info);
  });

  route(app, operations.schedules, async ({ query }) => {
    // By next run (none: last), then id.
    const { page, nextCursor } = listPage(await schedules.list(), (s) => `${sortableNumber(s.nextRunAt ?? Number.MAX_SAFE_INTEGER)}|${s.id}`, query.limit, query.cursor);
    return { schedules: page, nextCursor };
  });

  route(app, operations.deleteSchedule, async ({ params }) => {
    if (!(await schedules.remove(params.id))) throw new ApiError(404, 'NOT_FOUND', `no schedule ${params.id}`);
    return { id: params.id, deleted: true as const };
  });
};

/** Who a people operation is logged as: `key:<API key id>`, `token` or `open`. */
function actor(principal: Principal): string {
  return principal.kind === 'key' ? `key:${principal.id}` : principal.kind;
}

/** 0: enrolled or named by hand; 1: automatic (the confidence order's first key). */
const rankOf = (how: string | null) => (how === 'enrolled' || how === 'hand' ? 0 : 1);

function confidenceCursor(cursor: string | undefined): { rank: number; distance: number; id: string } | null {
  if (cursor === undefined) return null;
  const [rank, distance, id] = cursor.split('_');
  return { rank: Number(rank), distance: Number(distance), id: id! };
}

/** A rename onto a name that exists is a conflict (merge is the way), not a bad request. */
function conflictOnExisting(err: unknown): never {
  if (err instanceof FacepipeError && err.code === 'INVALID_PAYLOAD' && /already exists/.test(err.message)) throw new ApiError(409, 'CONFLICT', err.message.replace(/facepipe people merge "(.*)" "(.*)"$/, 'POST /v1/people/$1/merge {"into": "$2"}'));
  throw err;
}

const searchFieldNames = ['face', 'limit', 'threshold'] as const;
type SearchField = (typeof searchFieldNames)[number];

/** The one photo of a search request (any field name) and its short fields (`face`, `limit`). */
async function searchUpload(request: FastifyRequest, maxBytes: number): Promise<{ bytes: Buffer; fields: Partial<Record<SearchField, string>> }> {
  const fields: Partial<Record<SearchField, string>> = {};
  let bytes: Buffer | undefined;
  for await (const part of multipartParts(request, 1, maxBytes)) {
    if (part.type === 'field') {
      if (!(searchFieldNames as readonly string[]).includes(part.fieldname)) throw new ApiError(400, 'BAD_REQUEST', `unknown field "${part.fieldname}" (fields: ${searchFieldNames.join(', ')}, and one photo)`);
      fields[part.fieldname as SearchField] = String(part.value);
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

const compareFieldNames = ['threshold', 'sourceFace', 'targetFace'] as const;
type CompareField = (typeof compareFieldNames)[number];

/** The two photos of a compare request (file parts `source` and `target`) and its short fields. */
async function compareUpload(request: FastifyRequest, maxBytes: number): Promise<{ source: Buffer; target: Buffer; fields: Partial<Record<CompareField, string>> }> {
  const fields: Partial<Record<CompareField, string>> = {};
  const photos: { source?: Buffer; target?: Buffer } = {};
  for await (const part of multipartParts(request, 2, maxBytes)) {
    if (part.type === 'field') {
      if (!(compareFieldNames as readonly string[]).includes(part.fieldname)) throw new ApiError(400, 'BAD_REQUEST', `unknown field "${part.fieldname}" (fields: ${compareFieldNames.join(', ')}, and the photos source and target)`);
      fields[part.fieldname as CompareField] = String(part.value);
      continue;
    }
    const which = part.fieldname;
    if (which !== 'source' && which !== 'target') {
      part.file.resume();
      throw new ApiError(400, 'BAD_REQUEST', `a photo must be sent as the file part "source" or "target", not "${which}"`);
    }
    const chunks: Buffer[] = [];
    for await (const chunk of part.file) chunks.push(chunk as Buffer);
    if (part.file.truncated) throw new FacepipeError('FILE_TOO_LARGE', `the ${which} photo is larger than ${maxBytes} bytes (FACEPIPE_UPLOAD_MAX_BYTES)`);
    if (photos[which]) throw new ApiError(400, 'BAD_REQUEST', `two "${which}" photos: send one source and one target`);
    photos[which] = Buffer.concat(chunks);
  }
  const missing = (['source', 'target'] as const).filter((w) => photos[w] === undefined);
  if (missing.length > 0) throw new ApiError(400, 'NO_FILES', `send two photos as multipart/form-data file parts "source" and "target" (missing: ${missing.join(', ')})`);
  return { source: photos.source!, target: photos.target!, fields };
}

/** The keys whose value is set (a form's absent fields must not hide the query's). */
function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
