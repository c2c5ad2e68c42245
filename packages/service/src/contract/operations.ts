import { z } from 'zod';
import { scheduleKinds, scheduleIdPattern } from '@facepipe/core';
import { apiKeyScopes } from '../api-keys.js';
import { batchKinds } from '../dashboard-batches.js';
import { batchDetail, batchItems, dashboardSession, overview, queueFailures, recentResult } from './dashboard-schemas.js';
import { batchId, count, flag, imageId, listPageQuery, nextCursor, pagedList, wholeNumber } from './fields.js';
import { operation, type ResponseSpec } from './operation.js';
import {
  apiKey,
  batch,
  changeCounts,
  cluster,
  clusterFaces,
  clusterNamePreview,
  comparison,
  peopleAuditEntry,
  createdApiKey,
  createdWebhook,
  webhook,
  errorSchema,
  imageStatus,
  libraryPerson,
  people,
  personFaces,
  ready,
  resultLine,
  schedule,
  searchHit,
  uploadResult,
  uploadedFile,
  enrollmentReport,
  erasureRecord,
  imageErasure,
  personErasure,
} from './schemas.js';

// Every route of the service's API, written once: the plugins register their routes from these
// (route() in request-input.ts), their inputs are parsed with these schemas, and /openapi.json is
// generated from them (openapi.ts). The 401/403/429 answers of authenticated routes are added
// by the generator; a route with inputs gets a 400 for a bad value unless it describes its own.

const error = (description: string): ResponseSpec => ({ description, schema: errorSchema });
const json = (schema: z.ZodType, description: string): ResponseSpec => ({ description, schema });
const location = (description: string) => ({ Location: description });
/** The face index routes' answer without DATABASE_URL or with the database down. */
const noIndex = { 503: error('No face index (DATABASE_URL unset) or it does not answer (DATABASE_UNAVAILABLE)') };

const uploadForm = (withBatch: boolean) =>
  z.object({
    ...(withBatch ? { batchId: z.string().optional().describe('Add the files to this batch (created on first use, open until closed). Must come before the files. Without it each request is a batch of its own.') } : {}),
    externalId: z.string().optional().describe("The caller's id for the next file part (sent just before it); used as the file's source in results."),
    files: z.array(z.string().meta({ format: 'binary' })).describe('One part per image (any field name).'),
  });

/** How far apart two faces may be and still be one person (Euclidean distance of the embeddings). */
const threshold = z.coerce
  .number({ error: 'a number from 0 to 4, e.g. 0.5' })
  .min(0, { error: 'a number from 0 to 4, e.g. 0.5' })
  .max(4, { error: 'a number from 0 to 4, e.g. 0.5' });
const faceOf = (photo: string) => wholeNumber(0, 10_000).optional().describe(`Which face of the ${photo} photo (detection order, from 0); default: the largest`);
const compareFields = z.object({
  threshold: threshold.optional().describe('Same person at this distance or nearer; default: the deployment\'s FACEPIPE_MATCH_TOLERANCE (0.6 unless set)'),
  sourceFace: faceOf('source'),
  targetFace: faceOf('target'),
});

const searchFields = z.object({
  limit: wholeNumber(1, 1000).optional().describe('How many hits (default 10)'),
  face: wholeNumber(0, 10_000).optional().describe('Which face of the photo (detection order, from 0); default: the largest'),
  threshold: threshold.optional().describe('Only hits at this distance or nearer (e.g. the deployment\'s FACEPIPE_MATCH_TOLERANCE, 0.6, for "the same person"); default: no limit, the `limit` nearest'),
});

const personName = z.object({ name: z.string().max(100).describe("The person's name (URL-encoded)") });
const batchParams = z.object({ id: z.string().describe('A batch id') });
const dashboardBatch = z.object({ id: batchId });
const queueParams = z.object({ queue: z.string().describe('detect, embed, classify, gallery or maintenance') });
const failureParams = queueParams.extend({ code: z.string().describe('An error code, e.g. CORRUPT_IMAGE') });

export const images = {
  upload: operation({
    method: 'post',
    path: '/v1/images',
    tag: 'images',
    scope: 'upload',
    summary: 'Upload one or many images',
    description:
      'Reads the whole request first (files wait in a temp dir): a request refused as a whole (400, 409, 413 TOO_MANY_FILES/TOO_MANY_PARTS, 415) stores and queues nothing. ' +
      'Then hashes each file (image id = sha256), checks its header (format, pixel limit) and queues it. The same bytes always get the same id and are never processed twice. ' +
      '202: every file accepted; 207: some rejected (see each file); 4xx: every file rejected, with the status of the first (413 over a limit, 415 not an image, 422 unreadable).',
    form: uploadForm(true),
    responses: {
      202: { ...json(uploadResult, 'Every file accepted'), headers: location('The batch: GET it for progress') },
      207: { ...json(uploadResult, 'Some files rejected; each says why'), headers: location('The batch: GET it for progress') },
      400: error('No files (NO_FILES), an unknown field, a bad batchId/externalId, batchId after the files (BAD_REQUEST), or a malformed body (BAD_MULTIPART)'),
      409: error('The batch is closed to uploads (BATCH_CLOSED)'),
      413: json(z.union([uploadResult, errorSchema]), 'Over FACEPIPE_UPLOAD_MAX_BYTES / FACEPIPE_MAX_PIXELS (FILE_TOO_LARGE, IMAGE_TOO_LARGE) or too many files or parts (TOO_MANY_FILES, TOO_MANY_PARTS)'),
      415: json(z.union([uploadResult, errorSchema]), 'Not an image (NOT_AN_IMAGE, UNSUPPORTED_FORMAT), or not multipart/form-data (NOT_MULTIPART)'),
      422: json(uploadResult, 'An unreadable image (EMPTY_INPUT, TRUNCATED_IMAGE, CORRUPT_IMAGE)'),
      503: error('Admission is held back (with Retry-After): a queue at its bound (QUEUE_FULL) or a full data dir (STORAGE_FULL); or storage is down'),
    },
  }),
  status: operation({
    method: 'get',
    path: '/v1/images/{id}',
    tag: 'images',
    scope: 'read',
    summary: "An image's status, and its result once done",
    params: z.object({ id: imageId }),
    responses: { 200: json(imageStatus, 'Known image'), 400: error('Not an image id'), 404: error('Nothing is known about this id') },
  }),
  original: operation({
    method: 'get',
    path: '/v1/images/{id}/original',
    tag: 'images',
    scope: 'read',
    summary: 'The uploaded bytes',
    params: z.object({ id: imageId }),
    responses: { 200: { description: 'The original image', contentType: 'image/*', schema: z.string().meta({ format: 'binary' }) }, 400: error('Not an image id'), 404: error('No such image') },
  }),
  erase: operation({
    method: 'delete',
    path: '/v1/images/{id}',
    tag: 'images',
    scope: 'people',
    summary: 'Erase an image and everything derived from it (GDPR art. 17)',
    description:
      'Deletes the original and every derived object of every model version (faces, chips, embeddings, result, labels, gallery membership), its rows in the face index ' +
      '(faces, cluster membership, examples, hand labels), what Redis remembers (outcome, jobs, events), and rewrites batch manifests (the entry says ERASED), enrollment reports and ' +
      'gallery versions without it (the gallery is rebuilt). Uploading the same bytes later processes them afresh. Logged without the id (GET /v1/erasures). ' +
      'Erasing twice is fine (`found: false`). An image still being processed is refused with 409 IMAGE_BUSY and nothing is erased.',
    params: z.object({ id: imageId }),
    responses: {
      200: json(imageErasure, 'Erased'),
      400: error('Not an image id'),
      409: error('The image is being processed (IMAGE_BUSY): nothing was erased; ask again when it is done'),
      503: error('Storage or the face index does not answer (STORAGE_UNAVAILABLE, DATABASE_UNAVAILABLE)'),
    },
  }),
  display: operation({
    method: 'get',
    path: '/v1/images/{id}/display',
    tag: 'images',
    scope: 'read',
    summary: 'The photo in a format every browser shows: the original when it is JPEG, PNG, WebP or GIF, else a JPEG made from it (TIFF, HEIC, AVIF, BMP, ICO), upright',
    description: 'What the dashboard shows. A rendition is made on first use (off the event loop) and kept in a small in-memory cache; the original stays as uploaded (GET /v1/images/{id}/original).',
    params: z.object({ id: imageId }),
    responses: {
      200: { description: 'The photo (image/jpeg for a rendition)', contentType: 'image/*', schema: z.string().meta({ format: 'binary' }) },
      400: error('Not an image id'),
      404: error('No such image'),
      422: error('The original cannot be decoded (CORRUPT_IMAGE, TRUNCATED_IMAGE…)'),
    },
  }),
  crops: operation({
    method: 'get',
    path: '/v1/images/{id}/crops',
    tag: 'images',
    scope: 'read',
    summary: 'The aligned face crops, 150×150 each, stacked top to bottom in face order (cropIndex)',
    params: z.object({ id: imageId }),
    responses: {
      200: { description: 'WebP: the lossy display rendition (quality 90) the embed stage keeps once it has embedded the exact crops; lossless WebP, or PNG, for results stored before it', contentType: 'image/webp', schema: z.string().meta({ format: 'binary' }) },
      400: error('Not an image id'),
      404: error('No result with faces for this image'),
    },
  }),
};

export const batches = {
  list: operation({
    method: 'get',
    path: '/v1/batches',
    tag: 'batches',
    scope: 'read',
    summary: 'Recent batches, newest first, a page at a time',
    description: pagedList,
    query: z.object({
      limit: wholeNumber(1, 500).default(50),
      cursor: z.string().regex(/^\d{1,16}-[A-Za-z0-9_-]{1,64}$/, { error: 'the nextCursor of the previous page' }).optional().describe('The `nextCursor` of the previous page'),
    }),
    responses: {
      200: json(z.object({ batches: z.array(batch), nextCursor: z.string().nullable().describe('Where the next page starts; null on the last page') }), 'A page of batches'),
      400: error('A bad limit or cursor'),
    },
  }),
  get: operation({
    method: 'get',
    path: '/v1/batches/{id}',
    tag: 'batches',
    scope: 'read',
    summary: "A batch's counts, progress, rate and time left",
    params: batchParams,
    responses: { 200: json(batch, 'The batch'), 404: error('No such batch') },
  }),
  close: operation({
    method: 'post',
    path: '/v1/batches/{id}/close',
    tag: 'batches',
    scope: 'upload',
    summary: 'Close an upload batch: it takes no more files and finishes once its files are processed',
    params: batchParams,
    responses: { 200: json(batch, 'The closed batch'), 404: error('No such batch') },
  }),
  results: operation({
    method: 'get',
    path: '/v1/batches/{id}/results',
    tag: 'batches',
    scope: 'read',
    summary: "A batch's results, one JSON line per input in manifest order (as `facepipe results` and `facepipe run --out`)",
    description:
      'Each line is `{"file","imageId","faces":[{"box","score","match":{"name","distance"},"cluster"}]}`, or `{"file","imageId"?,"error":{"code","message"}}` for an input that could not be used. ' +
      "With a face index (DATABASE_URL), names and clusters come from the index as it is now (a cluster named or a person renamed since the image was processed shows); `cluster` is the id of the face's group of similar unnamed faces (`GET /v1/clusters`), or null when the face is named or in no group. " +
      'Without a face index, names come from the result documents and `cluster` is null. ' +
      'With `threshold`, a face named automatically farther than it answers `match.name: null` and the name as `suggestion` (names given by hand, by enrollment or by naming a cluster are kept).',
    params: batchParams,
    query: z.object({
      threshold: threshold.optional().describe("Names only at this distance or nearer (stricter than the deployment's naming); default: the names as the deployment decided them"),
    }),
    responses: {
      200: { description: 'NDJSON, one ResultLine per input', contentType: 'application/x-ndjson', schema: resultLine },
      400: error('A bad threshold (BAD_REQUEST, names the field)'),
      404: error('No such batch'),
      503: error('DATABASE_URL is set but the face index does not answer (DATABASE_UNAVAILABLE)'),
    },
  }),
};

export const enroll = operation({
  method: 'post',
  path: '/v1/people/{name}/images',
  tag: 'people',
  scope: 'people',
  summary: 'Enroll photos of a person (one face each) and publish a new gallery version',
  description:
    'Waits (up to 20 s) until the photos are processed and the gallery is built, then answers the enrollment report. ' +
    'A longer wait, a paused pipeline queue, or `?wait=false` answers 202 with `Location: /v1/batches/{id}` (also `statusUrl`): the enrollment goes on in the background and its report appears there as `enrollment`.',
  params: personName,
  query: z.object({ wait: flag(true).describe('Wait for the enrollment (up to 20 s)') }),
  form: uploadForm(false),
  responses: {
    200: json(z.object({ batchId: z.string(), files: z.array(uploadedFile), enrollment: enrollmentReport }), 'Enrolled (see each item: enrolled or rejected with NO_FACE, MULTIPLE_FACES…)'),
    202: { ...json(uploadResult, 'Accepted; the enrollment finishes in the background'), headers: location('GET this for progress and, when done, the report') },
    400: error('Not a valid person name, a bad wait, or no files'),
    413: json(z.union([uploadResult, errorSchema]), 'Over a limit'),
    415: json(z.union([uploadResult, errorSchema]), 'Not an image, or not multipart/form-data'),
    422: json(uploadResult, 'Every photo unreadable'),
    503: error('Admission is held back (with Retry-After): a queue at its bound (QUEUE_FULL) or a full data dir (STORAGE_FULL); or storage is down'),
    504: error('The enrollment failed or was not done within its 600 s limit (TIMEOUT)'),
  },
});

export const library = {
  people: operation({
    method: 'get',
    path: '/v1/people',
    tag: 'library',
    scope: 'read',
    summary: 'The people of the library by name, with their face counts and the enrolled faces of the gallery, a page at a time',
    description:
      'With a face index (DATABASE_URL): each person of the index with `faceCount` (faces in the library), `examples`, `hidden` and `faces` (their faces in the current gallery), and people only the gallery knows. Without one: the gallery only. ' +
      pagedList,
    query: z.object({ hidden: flag(false).describe('Include hidden people'), ...listPageQuery(1000, 500) }),
    responses: { 200: json(people, 'A page of people'), 400: error('A bad hidden, limit or cursor'), 503: error('The face index does not answer (DATABASE_UNAVAILABLE)') },
  }),
  person: operation({
    method: 'get',
    path: '/v1/people/{name}',
    tag: 'library',
    scope: 'read',
    summary: 'One person of the library',
    params: personName,
    responses: { 200: json(libraryPerson, 'The person'), 404: error('Nobody of this name'), ...noIndex },
  }),
  update: operation({
    method: 'patch',
    path: '/v1/people/{name}',
    tag: 'library',
    scope: 'people',
    summary: 'Rename and/or hide (or show) a person',
    params: personName,
    body: z
      .strictObject({ name: z.string({ error: 'a string' }).max(100).optional(), hidden: z.boolean({ error: 'true or false' }).optional() })
      .refine((b) => b.name !== undefined || b.hidden !== undefined, { error: 'give "name" (to rename) and/or "hidden" (true or false)' })
      .meta({ example: { name: 'Jane Doe', hidden: false } }),
    responses: {
      200: json(libraryPerson.extend({ resultsUpdated: changeCounts.resultsUpdated }), 'The person now'),
      400: error('Not JSON, an unknown field, or a bad name (BAD_REQUEST, INVALID_PAYLOAD)'),
      404: error('Nobody of this name'),
      409: error('Someone already has the new name: merge instead (CONFLICT)'),
      ...noIndex,
    },
  }),
  remove: operation({
    method: 'delete',
    path: '/v1/people/{name}',
    tag: 'library',
    scope: 'people',
    summary: "Delete a person: their faces become nobody's (and may be clustered again); with `erase`, erase them and their faces",
    description:
      'Without `erase`: the person goes, their faces stay as nobody\'s. With `erase=photos`: the person, every face of theirs and every photo in which only they appear are erased ' +
      '(as DELETE /v1/images/{id}); photos with other faces stay without theirs. With `erase=faces`: the person and their faces are erased, every photo stays. Logged (GET /v1/erasures). ' +
      '409 IMAGE_BUSY when one of their photos is being processed: nothing was erased.',
    params: personName,
    query: z.object({ erase: z.enum(['photos', 'faces'], { error: 'photos or faces' }).optional().describe('Erase the person\'s biometric data: `photos` (also photos only they appear in) or `faces` (only their faces)') }),
    responses: {
      200: json(z.object({ name: z.string(), deleted: z.literal(true), ...changeCounts, erased: personErasure.optional().describe('With `erase`: what was erased') }), 'Deleted'),
      400: error('A bad erase value'),
      404: error('Nobody of this name'),
      409: error('One of their photos is being processed (IMAGE_BUSY): nothing was erased'),
      ...noIndex,
    },
  }),
  erasures: operation({
    method: 'get',
    path: '/v1/erasures',
    tag: 'library',
    scope: 'admin',
    summary: 'The erasure log, newest first: who erased what kind, when, and how much (no ids, names or face data)',
    description: pagedList,
    query: z.object({
      limit: wholeNumber(1, 1000).default(100).describe('Entries to return'),
      cursor: z.string().regex(/^e[0-9a-z]{1,40}$/, { error: 'the nextCursor of the previous page' }).optional().describe('The `nextCursor` of the previous page'),
    }),
    responses: {
      200: json(z.object({ erasures: z.array(erasureRecord), nextCursor: z.string().nullable().describe('Where the next page starts; null on the last page') }), 'A page of entries, newest first'),
      400: error('A bad limit or cursor'),
    },
  }),
  merge: operation({
    method: 'post',
    path: '/v1/people/{name}/merge',
    tag: 'library',
    scope: 'people',
    summary: "Merge a person into another: their faces, examples and hand labels become the other's",
    params: personName,
    body: z.strictObject({ into: z.string({ error: 'the name of the person who keeps the faces' }) }).meta({ example: { into: 'Jane Doe' } }),
    responses: {
      200: json(z.object({ merged: z.string(), into: libraryPerson, ...changeCounts }), 'Merged'),
      400: error('Not JSON, or a person merged into themselves'),
      404: error('Nobody of one of the names'),
      ...noIndex,
    },
  }),
  faces: operation({
    method: 'get',
    path: '/v1/people/{name}/faces',
    tag: 'library',
    scope: 'read',
    summary: "A person's faces, a page at a time (oldest first, or by confidence)",
    description:
      '`order=confidence`: faces enrolled or named by hand first, then automatic matches nearest first (the weakest, most likely wrong, last) — what the dashboard shows. ' +
      'Each face has its `box` on the upright photo (GET /v1/images/{imageId}/display). `faceCount` of GET /v1/people/{name} counts the same faces.',
    params: personName,
    query: z.object({
      limit: wholeNumber(1, 500).default(100),
      cursor: z
        .string()
        .regex(/^(\d{1,19}|[01]_\d{1,3}(\.\d{1,20})?(e-\d{1,3})?_\d{1,19})$/, { error: 'the nextCursor of the previous page' })
        .optional()
        .describe('The `nextCursor` of the previous page (of the same order)'),
      order: z.enum(['added', 'confidence'], { error: 'added or confidence' }).default('added').describe('`added` (oldest first) or `confidence`'),
    }),
    responses: {
      200: {
        ...json(personFaces, 'A page'),
        example: {
          name: 'Jane Doe',
          faces: [
            { faceId: '12', imageId: 'a'.repeat(64), face: 0, source: 'photos/jane.jpg', how: 'enrolled', distance: 0, box: [120, 80, 96, 96] },
            { faceId: '57', imageId: 'b'.repeat(64), face: 1, source: 'photos/party.jpg', how: 'auto', distance: 0.41, box: [300, 150, 64, 70] },
          ],
          nextCursor: '1_0.41_57',
        },
      },
      400: error('A bad limit, order or cursor'),
      404: error('Nobody of this name'),
      ...noIndex,
    },
  }),
  setCover: operation({
    method: 'put',
    path: '/v1/people/{name}/cover',
    tag: 'library',
    scope: 'people',
    summary: 'Set the face shown for a person (one of their faces)',
    params: personName,
    body: z.strictObject({ imageId, face: wholeNumber(0, 10_000).describe("The face's index in its image") }).meta({ example: { imageId: 'a'.repeat(64), face: 0 } }),
    responses: {
      200: json(libraryPerson, 'The person, with the new cover'),
      400: error('Not JSON, or the face is not theirs (INVALID_PAYLOAD)'),
      404: error('Nobody of this name'),
      ...noIndex,
    },
  }),
  audit: operation({
    method: 'get',
    path: '/v1/people-audit',
    tag: 'library',
    scope: 'read',
    summary: 'The people audit log, newest first, a page at a time: who renamed, hid, deleted, merged, named a cluster, said "not this person" or "not a face", ignored a cluster, set a cover',
    description: 'Entries stay after an undo (with `undoneAt`). An erasure removes the entries about the erased person or photos.',
    query: z.object({
      limit: wholeNumber(1, 500).default(50),
      cursor: z.string().regex(/^\d{1,19}$/, { error: 'the nextCursor of the previous page' }).optional().describe('The `nextCursor` of the previous page'),
    }),
    responses: {
      200: {
        ...json(z.object({ entries: z.array(peopleAuditEntry), nextCursor: z.string().nullable().describe('null on the last page') }), 'A page'),
        example: {
          entries: [
            { id: '8', at: '2026-12-07T15:02:11.000Z', actor: 'key:k_1a2b3c4d', action: 'rename', summary: 'renamed Jane to Jane Doe', undoneAt: null, undoneBy: null, undoable: true },
            { id: '7', at: '2026-12-07T15:01:40.000Z', actor: 'token', action: 'name-cluster', summary: 'named cluster 3 (5 faces) Jane', undoneAt: null, undoneBy: null, undoable: false },
          ],
          nextCursor: null,
        },
      },
      400: error('A bad limit or cursor'),
      ...noIndex,
    },
  }),
  undo: operation({
    method: 'post',
    path: '/v1/people-audit/undo',
    tag: 'library',
    scope: 'people',
    summary: 'Undo the newest people operation not undone yet (again for the one before it)',
    description:
      'Puts back what the operation changed: names, hidden, covers, faces (person, suggestion, cluster), examples, hand labels, "not this person" answers; people merged away or deleted are made again (with a new id). ' +
      'Send the `id` of the entry you mean: when another operation came since, nothing is done (409). Result documents are brought in step.',
    body: z.strictObject({ id: z.string().regex(/^\d{1,19}$/, { error: 'an audit entry id' }).optional().describe('The entry meant (GET /v1/people-audit)') }).meta({ example: { id: '8' } }),
    responses: {
      200: json(z.object({ undone: peopleAuditEntry, ...changeCounts }), 'Undone'),
      400: error('Not JSON, or a bad id'),
      404: error('Nothing left to undo (NOT_FOUND)'),
      409: error('The newest operation is another one than `id`, or the library changed so that it cannot be undone (a name taken since) (CONFLICT)'),
      ...noIndex,
    },
  }),
  clusters: operation({
    method: 'get',
    path: '/v1/clusters',
    tag: 'library',
    scope: 'read',
    summary: 'Groups of similar faces nobody has named yet, largest first, a page at a time',
    description: `${pagedList} Naming a cluster between pages may move others up: a cluster is never listed twice, but one that grew past the cursor is on an earlier page.`,
    query: z.object({
      limit: wholeNumber(1, 500).default(100),
      cursor: z.string().regex(/^\d{1,19}-\d{1,19}$/, { error: 'the nextCursor of the previous page' }).optional().describe('The `nextCursor` of the previous page'),
    }),
    responses: {
      200: json(z.object({ clusters: z.array(cluster), nextCursor: z.string().nullable().describe('Where the next page starts; null on the last page') }), 'A page of clusters'),
      400: error('A bad limit or cursor'),
      ...noIndex,
    },
  }),
  nameCluster: operation({
    method: 'post',
    path: '/v1/clusters/{id}/name',
    tag: 'library',
    scope: 'people',
    summary: "Name a cluster: its faces become the person's (as enrollment), and matching faces across the library are named at once",
    params: z.object({ id: z.string().describe('A cluster id (digits)') }),
    body: z.strictObject({ name: z.string({ error: "the person's name" }).max(100) }).meta({ example: { name: "<the person's name>" } }),
    responses: {
      200: json(z.object({ cluster: z.string(), person: libraryPerson, faces: count.describe('Faces named'), resultsUpdated: changeCounts.resultsUpdated }), 'Named'),
      400: error('Not JSON, or not a valid name'),
      404: error('No such cluster (or it has no faces)'),
      ...noIndex,
    },
  }),
  previewClusterName: operation({
    method: 'get',
    path: '/v1/clusters/{id}/preview',
    tag: 'library',
    scope: 'people',
    summary: 'What naming a cluster would do, nothing done: every face that would be named, suggested or lose its name',
    description:
      "The same steps as POST /v1/clusters/{id}/name, in a transaction that is rolled back: the cluster's faces become the person's examples, and faces across the library near them are decided again by the naming rule. Shown before naming, so a stranger the name would spread to is seen first.",
    params: z.object({ id: z.string().regex(/^\d{1,19}$/, { error: 'a cluster id (digits)' }).describe('A cluster id') }),
    query: z.object({ name: z.string({ error: "the person's name" }).max(100).describe('The name the cluster would get') }),
    responses: {
      200: {
        ...json(clusterNamePreview, 'What would change'),
        example: {
          cluster: '3',
          person: 'George Clooney',
          faces: 8,
          changes: [
            { imageId: 'a'.repeat(64), face: 0, source: 'photos/premiere.jpg', before: { name: null, how: null, suggestion: null, distance: null }, after: { name: 'George Clooney', how: 'enrolled', suggestion: null, distance: null } },
            { imageId: 'b'.repeat(64), face: 1, source: 'photos/gala.jpg', before: { name: null, how: null, suggestion: null, distance: null }, after: { name: 'George Clooney', how: 'auto', suggestion: null, distance: 0.41 } },
            { imageId: 'c'.repeat(64), face: 0, source: 'photos/street.jpg', before: { name: null, how: null, suggestion: null, distance: null }, after: { name: null, how: null, suggestion: 'George Clooney', distance: 0.49 } },
          ],
        },
      },
      400: error('A bad id, or no valid name'),
      404: error('No such cluster (or it has no faces)'),
      ...noIndex,
    },
  }),
  clusterFaces: operation({
    method: 'get',
    path: '/v1/clusters/{id}/faces',
    tag: 'library',
    scope: 'read',
    summary: 'Every face of a cluster, a page at a time (oldest first)',
    params: z.object({ id: z.string().regex(/^\d{1,19}$/, { error: 'a cluster id (digits)' }).describe('A cluster id') }),
    query: z.object({
      limit: wholeNumber(1, 500).default(100),
      cursor: z.string().regex(/^\d{1,19}$/, { error: 'the nextCursor of the previous page' }).optional().describe('The `nextCursor` of the previous page'),
    }),
    responses: {
      200: {
        ...json(clusterFaces, 'A page'),
        example: { cluster: '3', faces: [{ faceId: '41', imageId: 'a'.repeat(64), face: 0, source: 'photos/beach.jpg', box: [120, 80, 96, 96] }], nextCursor: null },
      },
      400: error('A bad id, limit or cursor'),
      404: error('No such cluster'),
      ...noIndex,
    },
  }),
  ignoreCluster: operation({
    method: 'post',
    path: '/v1/clusters/{id}/ignore',
    tag: 'library',
    scope: 'people',
    summary: 'Ignore a cluster (no more offered for naming: strangers, posters, statues) or stop ignoring it',
    params: z.object({ id: z.string().describe('A cluster id (digits)') }),
    body: z.strictObject({ ignored: z.boolean({ error: 'true or false' }) }).meta({ example: { ignored: true } }),
    responses: {
      200: { ...json(z.object({ cluster: z.string(), ignored: z.boolean() }), 'Done'), example: { cluster: '3', ignored: true } },
      400: error('Not JSON, or no "ignored"'),
      404: error('No such cluster'),
      ...noIndex,
    },
  }),
  rejectFace: operation({
    method: 'post',
    path: '/v1/faces/{imageId}/{face}/reject',
    tag: 'library',
    scope: 'people',
    summary: '"Not this person": the face leaves its person (never named automatically as them again) or, with no person, its cluster',
    description: 'A face of a person: its example or hand label goes, "not this person" is recorded, and it is clustered again with nobody\'s faces. A face of a cluster: it leaves the cluster. Undo with POST /v1/people-audit/undo.',
    params: z.object({ imageId, face: wholeNumber(0, 10_000).describe("The face's index in its image") }),
    responses: {
      200: {
        ...json(z.object({ imageId: z.string(), face: count, was: z.string().nullable().describe('The person it was'), name: z.string().nullable(), cluster: z.string().nullable(), ...changeCounts }), 'The face now'),
        example: { imageId: 'a'.repeat(64), face: 1, was: 'Jane Doe', name: null, cluster: null, faces: 1, resultsUpdated: 1 },
      },
      400: error('A bad image id or face, or a face with no person and no cluster (INVALID_PAYLOAD)'),
      404: error('The index has no such face'),
      ...noIndex,
    },
  }),
  notAFace: operation({
    method: 'post',
    path: '/v1/faces/{imageId}/{face}/not-a-face',
    tag: 'library',
    scope: 'people',
    summary: '"Not a face": the detection is kept by box as not a face (never named nor clustered, through every re-run); its person or cluster lets it go',
    params: z.object({ imageId, face: wholeNumber(0, 10_000).describe("The face's index in its image") }),
    responses: {
      200: {
        ...json(z.object({ imageId: z.string(), face: count, was: z.string().nullable().describe('The person it was'), notAFace: z.literal(true), ...changeCounts }), 'Marked'),
        example: { imageId: 'a'.repeat(64), face: 0, was: null, notAFace: true, faces: 1, resultsUpdated: 1 },
      },
      400: error('A bad image id or face'),
      404: error('The index has no such face'),
      ...noIndex,
    },
  }),
  labelFace: operation({
    method: 'put',
    path: '/v1/faces/{imageId}/{face}/person',
    tag: 'library',
    scope: 'people',
    summary: 'Move one face to a person (created when new), or to nobody (`"name": null`: "this is not them")',
    description: 'Set by hand: kept by box through every re-run and re-index; a face moved to a person names matching faces like an example.',
    params: z.object({ imageId, face: wholeNumber(0, 10_000).describe("The face's index in its image") }),
    body: z.strictObject({ name: z.string({ error: 'the person to move the face to, or null for nobody' }).max(100).nullable() }).meta({ example: { name: '<person>' } }),
    responses: {
      200: json(
        z.object({ imageId: z.string(), face: count, name: z.string().nullable(), how: z.literal('hand'), cluster: z.string().nullable(), faces: count.describe('Faces whose person changed'), resultsUpdated: changeCounts.resultsUpdated }),
        'The face now',
      ),
      400: error('Not JSON, a bad image id or face, or a bad name'),
      404: error('The index has no such face'),
      ...noIndex,
    },
  }),
  suggestions: operation({
    method: 'get',
    path: '/v1/suggestions',
    tag: 'library',
    scope: 'read',
    summary: 'Faces with a suggestion ("probably <name>") waiting for an answer, a page at a time (oldest first)',
    description: 'A suggestion is evidence short of a name (the naming rule in docs/recognition.md): never counted as a name until confirmed with `POST /v1/suggestions/{imageId}/{face}`.',
    query: z.object({
      limit: wholeNumber(1, 500).default(100),
      cursor: z.string().regex(/^\d{1,19}$/, { error: 'the nextCursor of the previous page' }).optional().describe('The `nextCursor` of the previous page'),
    }),
    responses: {
      200: json(
        z
          .object({
            suggestions: z.array(
              z.object({ faceId: z.string(), imageId: z.string(), face: count, source: z.string(), box: z.array(z.number()), name: z.string().describe('The person suggested'), distance: z.number().describe("Distance to the person's nearest example") }),
            ),
            nextCursor: z.string().nullable(),
          })
          .meta({ example: { suggestions: [{ faceId: '42', imageId: 'a'.repeat(64), face: 0, source: 'photos/party.jpg', box: [120, 80, 96, 96], name: 'Jane Doe', distance: 0.49 }], nextCursor: null } }),
        'A page',
      ),
      400: error('A bad limit or cursor'),
      ...noIndex,
    },
  }),
  answerSuggestion: operation({
    method: 'post',
    path: '/v1/suggestions/{imageId}/{face}',
    tag: 'library',
    scope: 'people',
    summary: 'Answer a suggestion: yes (the face becomes the person\'s, as if set by hand) or no ("not this person": never suggested as them again)',
    params: z.object({ imageId, face: wholeNumber(0, 10_000).describe("The face's index in its image") }),
    body: z.strictObject({ accept: z.boolean({ error: 'true or false' }) }).meta({ example: { accept: true } }),
    responses: {
      200: json(
        z.object({ imageId: z.string(), face: count, accepted: z.boolean(), name: z.string().nullable().describe('The face\'s person now'), faces: count.describe('Faces whose person changed'), resultsUpdated: changeCounts.resultsUpdated }),
        'Answered',
      ),
      400: error('Not JSON, a bad image id or face, or no "accept"'),
      404: error('The index has no such face, or it has no suggestion'),
      ...noIndex,
    },
  }),
  search: operation({
    method: 'post',
    path: '/v1/search',
    tag: 'library',
    scope: 'read',
    summary: 'Search by face: the library faces nearest to the largest face of a photo (or its face `face`), nearest first',
    description:
      "The photo is detected and embedded here with the pipeline's models (loaded on the first search). The hits are those of `facepipe search --json` (HNSW, approximate). " +
      'Fields may be sent as form fields or in the query string; form fields win.',
    query: searchFields,
    form: searchFields.extend({ photo: z.string().meta({ format: 'binary' }).describe('One photo (any field name)') }),
    responses: {
      200: json(
        z.object({
          face: count.describe('The face searched'),
          faces: count.describe('Faces found in the photo'),
          embedVersion: z.string(),
          threshold: z.number().optional().describe('The threshold given: no hit is farther'),
          hits: z.array(searchHit),
        }),
        'Hits, nearest first',
      ),
      400: error('No photo (NO_FILES), an unknown field, a bad limit, or a face beyond those found (INVALID_PAYLOAD)'),
      413: error('Over FACEPIPE_UPLOAD_MAX_BYTES or FACEPIPE_MAX_PIXELS, or more than one photo'),
      415: error('Not an image, or not multipart/form-data'),
      422: error('No face in the photo (NO_FACE), or unreadable'),
      ...noIndex,
    },
  }),
  compare: operation({
    method: 'post',
    path: '/v1/compare',
    tag: 'library',
    scope: 'read',
    summary: 'Compare two faces (verification): one face of each photo, the distance between them, and whether they are the same person',
    description:
      'Two file parts, `source` and `target`, are detected and embedded here with the pipeline\'s models (as POST /v1/search; loaded on first use). ' +
      'Each photo\'s largest face is used unless `sourceFace` / `targetFace` name one (detection order, from 0). ' +
      '`same` is `distance <= threshold`; the threshold is the deployment\'s (FACEPIPE_MATCH_TOLERANCE, the one that names faces) unless `threshold` is given. ' +
      'Fields may also be sent in the query string; form fields win. Needs no face index. Nothing is stored.',
    query: compareFields,
    form: compareFields.extend({
      source: z.string().meta({ format: 'binary' }).describe('The first photo'),
      target: z.string().meta({ format: 'binary' }).describe('The second photo'),
    }),
    responses: {
      200: {
        ...json(comparison, 'The two faces, their distance and the verdict'),
        example: {
          same: true,
          distance: 0.53955,
          threshold: 0.6,
          thresholdFrom: 'deployment',
          source: { face: 0, faces: 1, box: [65.46, 69.31, 88.1, 113.72], score: 0.9925 },
          target: { face: 0, faces: 1, box: [97.91, 68.11, 75.11, 111.59], score: 0.9838 },
          embedVersion: 'dbf29c99236b',
        },
      },
      400: error('A missing photo or an unknown field (NO_FILES, BAD_REQUEST: names the field), a bad threshold or face (BAD_REQUEST), or a face beyond those found (INVALID_PAYLOAD: names the photo)'),
      413: error('A photo over FACEPIPE_UPLOAD_MAX_BYTES or FACEPIPE_MAX_PIXELS (FILE_TOO_LARGE, IMAGE_TOO_LARGE), or more than two photos (TOO_MANY_FILES)'),
      415: error('A photo that is not an image (NOT_AN_IMAGE, UNSUPPORTED_FORMAT: names the photo), or a body that is not multipart/form-data (NOT_MULTIPART)'),
      422: error('No face in a photo (NO_FACE) or an unreadable photo (EMPTY_INPUT, TRUNCATED_IMAGE, CORRUPT_IMAGE); the message names the photo'),
      503: error('The models could not be loaded (MODEL_ERROR)'),
    },
  }),
  createSchedule: operation({
    method: 'post',
    path: '/v1/schedules',
    tag: 'library',
    scope: 'admin',
    summary: 'Create (or replace, by id) a scheduled re-index: an interval or a cron pattern',
    body: z
      .strictObject({
        id: z.string({ error: 'a string' }).describe(`1–63 lowercase letters, digits, - or _ (${scheduleIdPattern.source})`),
        kind: z.string({ error: 'a string' }).describe(`${scheduleKinds.join(' or ')} (retention: erases photos of unconfirmed strangers older than FACEPIPE_RETENTION_STRANGER_DAYS)`),
        every: z.union([z.string(), z.number()], { error: 'a duration such as "6h", or milliseconds' }).optional().describe('"90s", "15m", "6h", "1d" or ms; at least 1 minute'),
        cron: z.string({ error: 'a string' }).optional().describe('5 or 6 fields, e.g. "0 3 * * *"'),
        tz: z.string({ error: 'a string' }).optional().describe('Time zone of the cron pattern'),
        runNow: z
          .boolean({ error: 'true or false' })
          .optional()
          .describe('Also run once right away; otherwise the first run is one interval after creation (every) or at the next match (cron)'),
      })
      .meta({ example: { id: 'nightly', kind: 'stale', every: '6h' } }),
    responses: { 201: json(schedule, 'The schedule, with its next run'), 400: error('A bad id, kind, interval or cron pattern') },
  }),
  schedules: operation({
    method: 'get',
    path: '/v1/schedules',
    tag: 'library',
    scope: 'admin',
    summary: 'Every scheduled re-index, by next run, a page at a time',
    description: pagedList,
    query: z.object(listPageQuery(500, 100)),
    responses: { 200: json(z.object({ schedules: z.array(schedule), nextCursor }), 'A page of schedules'), 400: error('A bad limit or cursor') },
  }),
  deleteSchedule: operation({
    method: 'delete',
    path: '/v1/schedules/{id}',
    tag: 'library',
    scope: 'admin',
    summary: 'Delete a scheduled re-index',
    params: z.object({ id: z.string() }),
    responses: { 200: json(z.object({ id: z.string(), deleted: z.literal(true) }), 'Deleted'), 404: error('No such schedule') },
  }),
};

export const keys = {
  create: operation({
    method: 'post',
    path: '/v1/keys',
    tag: 'keys',
    scope: 'admin',
    summary: 'Create an API key; the key is in this answer only (stored as its sha256)',
    body: z
      .object({
        name: z.string({ error: 'a string of 1-100 printable ASCII characters' }).describe('1-100 printable ASCII characters'),
        scopes: z.union([z.array(z.string()), z.string()], { error: `a list of ${apiKeyScopes.join(', ')}` }).describe(`A list (or comma-separated string) of ${apiKeyScopes.join(', ')}`),
      })
      .meta({ example: { name: 'ci uploader', scopes: ['upload', 'read'] } }),
    responses: { 201: json(createdApiKey, 'The new key'), 400: error('A bad name or scope, or not JSON (BAD_REQUEST, BAD_JSON)') },
  }),
  list: operation({
    method: 'get',
    path: '/v1/keys',
    tag: 'keys',
    scope: 'admin',
    summary: 'Every API key, without secrets, oldest first, a page at a time',
    description: pagedList,
    query: z.object(listPageQuery(500, 100)),
    responses: { 200: json(z.object({ keys: z.array(apiKey), nextCursor }), 'A page of keys'), 400: error('A bad limit or cursor') },
  }),
  revoke: operation({
    method: 'delete',
    path: '/v1/keys/{id}',
    tag: 'keys',
    scope: 'admin',
    summary: 'Revoke an API key (at once, in every service process)',
    params: z.object({ id: z.string() }),
    responses: { 200: json(z.object({ id: z.string(), revoked: z.literal(true) }), 'Revoked'), 404: error('No such key') },
  }),
};

export const webhooks = {
  create: operation({
    method: 'post',
    path: '/v1/webhooks',
    tag: 'webhooks',
    scope: 'read',
    summary: 'Register a webhook for the calling API key: facepipe POSTs each event to the URL, signed, and retries with backoff until the receiver answers 2xx',
    description:
      'Events: `batch.finished` (`data.batch`: as GET /v1/batches/{id}) and `image.failed` (`data`: imageId, error.code, the batches and items waiting on it). ' +
      'Each delivery is `{"id","type","createdAt","data"}` with the headers X-Facepipe-Event, X-Facepipe-Delivery (the same on every retry of one delivery), X-Facepipe-Attempt and ' +
      'X-Facepipe-Signature: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>" keyed with the secret>`. Verify it over the raw body, in constant time, and refuse an old t. ' +
      'A delivery that gets no 2xx within 10 s is retried with exponential backoff (2 s, 4 s, 8 s… 8 tries); failed ones are listed on the dashboard (queue webhooks, WEBHOOK_FAILED) and can be retried there.',
    body: z
      .strictObject({
        url: z.url({ protocol: /^https?$/, error: 'an http:// or https:// URL' }).max(2000).describe('Where to POST the events'),
        events: z.array(z.enum(['batch.finished', 'image.failed'], { error: 'batch.finished or image.failed' })).min(1, { error: 'at least one event' }).optional().describe('Default: both'),
      })
      .meta({ example: { url: 'https://app.example.com/facepipe-events', events: ['batch.finished', 'image.failed'] } }),
    responses: { 201: json(createdWebhook, 'The webhook, with its secret (shown this once)'), 400: error('Not JSON, a bad URL or an unknown event (BAD_REQUEST)') },
  }),
  list: operation({
    method: 'get',
    path: '/v1/webhooks',
    tag: 'webhooks',
    scope: 'read',
    summary: "The calling key's webhooks, oldest first (FACEPIPE_API_TOKEN: every key's), without secrets, a page at a time",
    description: pagedList,
    query: z.object(listPageQuery(500, 100)),
    responses: { 200: json(z.object({ webhooks: z.array(webhook), nextCursor }), 'A page of webhooks'), 400: error('A bad limit or cursor') },
  }),
  remove: operation({
    method: 'delete',
    path: '/v1/webhooks/{id}',
    tag: 'webhooks',
    scope: 'read',
    summary: 'Delete one of the calling key\'s webhooks: nothing more is sent to it (deliveries still queued are dropped)',
    params: z.object({ id: z.string() }),
    responses: { 200: json(z.object({ id: z.string(), deleted: z.literal(true) }), 'Deleted'), 404: error("No such webhook of this key's (NOT_FOUND)") },
  }),
};

export const dashboard = {
  overview: operation({
    method: 'get',
    path: '/dashboard/api/overview',
    tag: 'dashboard',
    summary: 'Per queue: job counts, paused, workers, completed/failed per minute, wait and run percentiles; batches (newest first, small uploads grouped) with state, recent rate and ETA; banners',
    query: z.object({
      kind: z.enum(['', 'all', ...batchKinds], { error: `one of all, ${batchKinds.join(', ')}` }).default('all'),
      limit: wholeNumber(1, 500).default(50).describe('Batches counted before small uploads are grouped'),
    }),
    responses: { 200: json(overview, 'Overview'), 400: error('Unknown kind, or a bad limit') },
  }),
  batch: operation({
    method: 'get',
    path: '/dashboard/api/batches/{id}',
    tag: 'dashboard',
    summary: 'One batch: state, recent rate, ETA, failures per error code (admission rejections included) with whether retrying can help',
    params: dashboardBatch,
    responses: { 200: json(batchDetail, 'Batch'), 400: error('Not a batch id'), 404: error('No such batch') },
  }),
  batchItems: operation({
    method: 'get',
    path: '/dashboard/api/batches/{id}/items',
    tag: 'dashboard',
    summary: "A batch's inputs in order, with their faces (names, how each was given) or errors",
    params: dashboardBatch,
    query: z.object({ offset: wholeNumber(0, 10_000_000).default(0), limit: wholeNumber(1, 200).default(24) }),
    responses: { 200: json(batchItems, 'Items'), 400: error('A bad batch id, offset or limit'), 404: error('No such batch') },
  }),
  retryBatchFailures: operation({
    method: 'post',
    path: '/dashboard/api/batches/{id}/failures/{code}/retry',
    tag: 'dashboard',
    summary: "Retry this batch's failed jobs with this error code, in every queue",
    params: dashboardBatch.extend({ code: z.string().describe('An error code, e.g. MODEL_ERROR') }),
    responses: { 200: json(z.object({ retried: count }), 'Retried'), 400: error('Not a batch id'), 404: error('No such batch'), 409: error('An input error: retrying cannot succeed (NOT_RETRYABLE)') },
  }),
  failures: operation({
    method: 'get',
    path: '/dashboard/api/failures',
    tag: 'dashboard',
    summary: 'Failed jobs per queue grouped by error code, each with its newest job',
    responses: { 200: json(z.array(queueFailures), 'Failures') },
  }),
  recent: operation({
    method: 'get',
    path: '/dashboard/api/recent',
    tag: 'dashboard',
    summary: 'The newest results, with boxes, names and distances',
    responses: { 200: json(z.object({ results: z.array(recentResult) }), 'Recent results') },
  }),
  session: operation({
    method: 'get',
    path: '/dashboard/api/session',
    tag: 'dashboard',
    summary: 'Who the dashboard is signed in as and the scopes it has (the page shows only the buttons those allow)',
    responses: { 200: json(dashboardSession, 'The session') },
  }),
  pause: operation({
    method: 'post',
    path: '/dashboard/api/queues/{queue}/pause',
    tag: 'dashboard',
    summary: 'Pause a queue (workers finish active jobs, take no new ones)',
    params: queueParams,
    responses: { 200: json(z.object({ queue: z.string(), paused: z.boolean() }), 'Paused'), 404: error('No such queue (UNKNOWN_QUEUE)') },
  }),
  resume: operation({
    method: 'post',
    path: '/dashboard/api/queues/{queue}/resume',
    tag: 'dashboard',
    summary: 'Resume a paused queue',
    params: queueParams,
    responses: { 200: json(z.object({ queue: z.string(), paused: z.boolean() }), 'Resumed'), 404: error('No such queue (UNKNOWN_QUEUE)') },
  }),
  retryFailures: operation({
    method: 'post',
    path: '/dashboard/api/queues/{queue}/failures/{code}/retry',
    tag: 'dashboard',
    summary: 'Retry every failed job of a queue with this error code',
    params: failureParams,
    responses: { 200: json(z.object({ retried: count }), 'Retried'), 404: error('No such queue (UNKNOWN_QUEUE)'), 409: error('An input error: retrying the same bytes cannot succeed (NOT_RETRYABLE)') },
  }),
  discardFailures: operation({
    method: 'post',
    path: '/dashboard/api/queues/{queue}/failures/{code}/discard',
    tag: 'dashboard',
    summary: 'Remove every failed job of a queue with this error code (failed results stay)',
    params: failureParams,
    responses: { 200: json(z.object({ discarded: count }), 'Discarded'), 404: error('No such queue (UNKNOWN_QUEUE)') },
  }),
};

export const probes = {
  healthz: operation({ method: 'get', path: '/healthz', tag: 'service', public: true, summary: 'The process answers', responses: { 200: json(z.object({ status: z.literal('ok') }), 'Alive') } }),
  readyz: operation({
    method: 'get',
    path: '/readyz',
    tag: 'service',
    public: true,
    summary: 'Redis and S3 answer and the model versions are known',
    responses: { 200: json(ready, 'Ready'), 503: json(ready, 'Not ready, with the failing checks') },
  }),
  metrics: operation({ method: 'get', path: '/metrics', tag: 'service', public: true, summary: 'Prometheus metrics', responses: { 200: { description: 'Prometheus text format', contentType: 'text/plain', schema: z.string() } } }),
  openapi: operation({ method: 'get', path: '/openapi.json', tag: 'service', public: true, summary: 'This document', responses: { 200: json(z.object({ openapi: z.string() }).loose(), 'OpenAPI 3.1') } }),
};

/** Every operation, in the order the description lists them. */
export const operations = [...Object.values(images), ...Object.values(batches), enroll, ...Object.values(library), ...Object.values(keys), ...Object.values(webhooks), ...Object.values(dashboard), ...Object.values(probes)];
