import { z } from 'zod';
import { boxSchema, enrollmentReportSchema, ErrorCodes, errorRecordSchema, scheduleKinds, resultDocumentSchema, scheduleIdPattern, stageNames } from '@facepipe/core';
import { apiKeyScopes } from '../api-keys.js';
import { count, epochMs } from './fields.js';

// The objects the API answers with, as zod schemas. `meta({ id })` names a schema: the OpenAPI
// description lists it under components.schemas and refers to it there. The result documents'
// schemas are core's (packages/core/src/results/documents.ts), where their types come from.

/** Codes the HTTP layer adds to facepipe's error codes (api-errors.ts has them as a type). */
const requestErrorCodes =
  'UNAUTHORIZED, FORBIDDEN, TOO_MANY_ATTEMPTS, NOT_FOUND, METHOD_NOT_ALLOWED, BAD_REQUEST, BAD_JSON, BAD_MULTIPART, BODY_TOO_LARGE, UNSUPPORTED_MEDIA_TYPE, HEADERS_TOO_LARGE, NOT_MULTIPART, NO_FILES, TOO_MANY_FILES, TOO_MANY_PARTS, BATCH_CLOSED, QUEUE_FULL, TIMEOUT, UNKNOWN_QUEUE, SHUTTING_DOWN, UNAVAILABLE, CONFLICT, NOT_RETRYABLE';

export const errorSchema = z
  .object({
    error: z.object({
      code: z.string().describe(`A facepipe error code (${Object.keys(ErrorCodes).join(', ')}) or a request error (${requestErrorCodes})`),
      message: z.string(),
    }),
  })
  .meta({ id: 'Error', description: 'Every 4xx/5xx answer', example: { error: { code: 'NOT_FOUND', message: 'no batch b123' } } });

export const errorRecord = errorRecordSchema.meta({ id: 'ErrorRecord' });

export const resultDocument = resultDocumentSchema.meta({ id: 'ResultDocument' });

export const enrollmentReport = enrollmentReportSchema.meta({ id: 'EnrollmentReport' });

export const uploadedFile = z
  .object({
    index: count.describe("The file's position in its batch"),
    filename: z.string().nullable(),
    externalId: z.string().nullable(),
    imageId: z.string().nullable().describe('sha256 of the bytes (null when the file could not be read)'),
    status: z.enum(['queued', 'done', 'rejected']).describe('queued: in the pipeline now; done: a current result exists; rejected: see `error`'),
    duplicate: z.boolean().describe('The same bytes were already processed or are in flight: not processed again'),
    error: errorRecord.optional(),
  })
  .meta({ id: 'UploadedFile' });

export const uploadResult = z
  .object({
    error: z.object({ code: z.string(), message: z.string() }).optional().describe('On 4xx (every file rejected): the common error object; `files` says why for each'),
    batchId: z.string(),
    open: z.boolean().describe('Whether the batch still takes uploads (one named with `batchId` stays open until closed)'),
    files: z.array(uploadedFile),
    statusUrl: z.string().optional().describe('Enrollment answered 202: where its progress and report appear (also in `Location`)'),
    enrollment: enrollmentReport.optional().describe('Enrollment answered 200: the report'),
  })
  .meta({
    id: 'UploadResult',
    example: { batchId: 'bmx4m3rdn8ed8063045', open: false, files: [{ index: 0, filename: 'obama1.jpg', externalId: null, imageId: 'a2840cf4…', status: 'queued', duplicate: false }] },
  });

export const apiKey = z
  .object({
    id: z.string().regex(/^[0-9a-f]{16}$/),
    name: z.string(),
    scopes: z.array(z.enum(apiKeyScopes)),
    createdAt: z.string().describe('ISO 8601'),
  })
  .meta({ id: 'ApiKey' });

export const createdApiKey = apiKey.extend({ key: z.string().describe('fpk_<id>_<secret>: send as `Authorization: Bearer <key>`') });

export const imageStatus = z
  .object({
    imageId: z.string(),
    status: z.enum(['queued', 'processing', 'done', 'failed']).describe('queued: waiting for its first stage; processing: in `stage`; done: `result` holds the result document; failed: `error` says why (and at which stage)'),
    stage: z.enum(stageNames).optional(),
    jobState: z.string().optional().describe('The BullMQ state of the job in `stage` (waiting, active, delayed…)'),
    error: errorRecordSchema.extend({ stage: z.string().optional() }).optional(),
    current: z.boolean().optional().describe('The result was made by the pipeline version running now'),
    result: resultDocument.optional(),
  })
  .meta({ id: 'ImageStatus' });

const resultFaceLine = z.object({
  box: boxSchema,
  score: z.number(),
  match: z.object({
    name: z.string().nullable().describe("The face index's person when it has one, else the result's name (a name given by hand wins)"),
    distance: z.number().nullable(),
  }),
  cluster: z.string().nullable().describe("The face's cluster of similar unnamed faces in the face index; null when named, in no cluster, or with no face index"),
});

export const resultLine = z
  .union([
    z.object({ file: z.string().describe("The input's source (file name, S3 key or externalId)"), imageId: z.string(), faces: z.array(resultFaceLine) }),
    z.object({ file: z.string(), imageId: z.string().optional(), error: errorRecord }),
  ])
  .meta({ id: 'ResultLine', description: 'One line of `GET /v1/batches/{id}/results`, `facepipe results <batchId>` and `facepipe run --out`' });

export const batch = z
  .object({
    id: z.string(),
    purpose: z.enum(['ingest', 'enroll', 'reindex']),
    source: z.string(),
    createdAt: epochMs,
    total: count.describe('Items seen so far (final once `ingested`)'),
    done: count,
    failed: count,
    faces: count.describe('Faces found in the done items'),
    cached: count.describe('Items answered from an earlier result (same bytes, same model versions)'),
    ingested: z.boolean().describe('Every input is listed'),
    open: z.boolean().describe('Still takes uploads'),
    finishedAt: epochMs.optional(),
    errors: z.record(z.string(), count).describe('Failed items per error code'),
    finished: count,
    progress: z.number().min(0).max(1),
    ratePerSecond: z.number().describe('Items finished per second since the batch was created (until it finished)'),
    etaSeconds: z.number().nullable().describe('Seconds until the items known so far are finished at that rate; null when unknown'),
    enrollment: enrollmentReport.optional().describe('Enrollment batches: the enrollment report, once the gallery was built'),
  })
  .meta({ id: 'Batch' });

/** The face shown for a person. */
export const coverFace = z
  .object({
    faceId: z.string(),
    imageId: z.string(),
    face: count.describe("The face's index in its image (its crop in GET /v1/images/{imageId}/crops)"),
    box: z.array(z.number()).describe('x, y, width, height in pixels of the upright photo'),
  })
  .nullable()
  .describe('The cover set by hand (PUT /v1/people/{name}/cover) while the face is still theirs, else their best face (enrolled or named by hand first, then the nearest match); null without faces');

export const libraryPerson = z
  .object({
    id: z.string(),
    name: z.string(),
    hidden: z.boolean(),
    faceCount: count.describe('Faces in the library that are this person'),
    examples: count.describe('Faces that name others: enrolled, from a named cluster, or named by hand'),
    cover: coverFace,
  })
  .meta({ id: 'LibraryPerson', description: 'A person of the face index' });

const enrolledFace = z.object({ imageId: z.string(), cropIndex: count });

export const people = z
  .object({
    galleryVersion: count.nullable(),
    people: z.array(
      z.object({
        id: z.string().optional().describe('In the face index (absent for people only the gallery knows)'),
        name: z.string(),
        hidden: z.boolean().optional(),
        faceCount: count.describe('Faces in the library that are this person'),
        examples: count.optional(),
        cover: coverFace.optional().describe('In the face index: the face shown for them'),
        faces: z.array(enrolledFace).describe('Their enrolled faces in the current gallery'),
      }),
    ),
    nextCursor: z.string().nullable().describe('Where the next page starts; null on the last page'),
  })
  .meta({ id: 'People' });

export const faceRef = z
  .object({ imageId: z.string(), face: count.describe("The face's index in its image"), source: z.string() })
  .meta({ id: 'FaceRef' });

export const cluster = z
  .object({
    id: z.string().regex(/^[0-9]+$/).describe('Stable while most of its faces stay together'),
    faces: count,
    embedVersion: z.string(),
    samples: z.array(faceRef).describe('A few of its faces (GET /v1/images/{imageId}/crops has their crops)'),
  })
  .meta({ id: 'Cluster' });

export const personFaces = z.object({
  name: z.string(),
  faces: z.array(
    faceRef.extend({
      faceId: z.string(),
      how: z.enum(['auto', 'hand', 'enrolled']).nullable(),
      distance: z.number().nullable().describe('For `auto`: the distance to the example that named it'),
      box: z.array(z.number()).describe('x, y, width, height in pixels of the upright photo'),
    }),
  ),
  nextCursor: z.string().nullable().describe('null on the last page'),
});

export const clusterFaces = z.object({
  cluster: z.string(),
  faces: z.array(faceRef.extend({ faceId: z.string(), box: z.array(z.number()).describe('x, y, width, height in pixels of the upright photo') })),
  nextCursor: z.string().nullable().describe('null on the last page'),
});

const faceAnswer = z
  .object({
    name: z.string().nullable().describe('Who the face is; null: nobody'),
    how: z.enum(['auto', 'hand', 'enrolled']).nullable().describe('`enrolled`: an example (enrolled or from a named cluster); `hand`; `auto`: named by the naming rule'),
    suggestion: z.string().nullable().describe('"Probably this person", when not named'),
    distance: z.number().nullable().describe('The automatic answer\'s distance to the nearest example'),
  })
  .meta({ id: 'FaceAnswer' });

export const clusterNamePreview = z
  .object({
    cluster: z.string(),
    person: z.string(),
    faces: count.describe('Faces whose person would change'),
    changes: z
      .array(faceRef.extend({ before: faceAnswer, after: faceAnswer }))
      .describe("Every face whose answer would change: the cluster's own faces first, then faces named across the library, suggested, left nobody's; each nearest first"),
  })
  .meta({ id: 'ClusterNamePreview', description: 'What naming the cluster would do; nothing was changed' });

export const peopleAuditEntry = z
  .object({
    id: z.string(),
    at: z.string().describe('When (ISO 8601)'),
    actor: z.string().describe('Who: `key:<API key id>`, `token` (FACEPIPE_API_TOKEN), `open` (no token set) or `local` (the CLI)'),
    action: z.enum(['rename', 'hide', 'show', 'delete', 'merge', 'name-cluster', 'not-this-person', 'not-a-face', 'ignore-cluster', 'cover']),
    summary: z.string().describe('What was done, in words'),
    undoneAt: z.string().nullable().describe('When it was undone; null while it stands'),
    undoneBy: z.string().nullable(),
    undoable: z.boolean().describe('Whether POST /v1/people-audit/undo undoes this one now (the newest entry not undone)'),
  })
  .meta({ id: 'PeopleAuditEntry', description: 'One people operation: who did what, when' });

export const searchHit = z
  .object({
    imageId: z.string(),
    source: z.string().describe("The file as it was ingested (or the upload's file name / externalId)"),
    face: count,
    distance: z.number().describe('Euclidean distance between the embeddings (same person below about 0.6)'),
    name: z.string().nullable(),
    cluster: z.string().nullable().describe('Its cluster when nobody is set on it'),
  })
  .meta({ id: 'SearchHit', description: 'As a line of `facepipe search --json`' });

export const schedule = z
  .object({
    id: z.string().regex(scheduleIdPattern),
    kind: z.enum(scheduleKinds).describe('What each tick runs: a re-index queued as a batch (as `facepipe reindex <kind>`), or `retention` (erases unconfirmed strangers older than FACEPIPE_RETENTION_STRANGER_DAYS)'),
    everyMs: count.nullable().describe('Repeat interval in ms, or null for a cron pattern'),
    cron: z.string().nullable(),
    tz: z.string().nullable(),
    nextRunAt: epochMs.nullable(),
  })
  .meta({ id: 'Schedule' });

export const ready = z
  .object({ ready: z.boolean(), checks: z.record(z.string(), z.object({ ok: z.boolean(), detail: z.string().optional() })) })
  .meta({ id: 'Ready' });

/** A change to the face index: how many faces it moved and result documents it rewrote. */
export const changeCounts = { faces: count, resultsUpdated: count.describe('Result documents rewritten to the new names') };


/** One face of a photo given to POST /v1/compare. */
const comparedFace = z.object({
  face: count.describe('Its index in detection order'),
  faces: count.describe('Faces found in the photo'),
  box: boxSchema.describe('x, y, width, height in pixels'),
  score: z.number().describe("The detector's confidence"),
});

export const comparison = z
  .object({
    same: z.boolean().describe('distance <= threshold'),
    distance: z.number().describe('Euclidean distance between the two embeddings (0 for the same face; the same person is usually below 0.6)'),
    threshold: z.number(),
    thresholdFrom: z.enum(['request', 'deployment']).describe('`request`: the threshold given; `deployment`: FACEPIPE_MATCH_TOLERANCE'),
    source: comparedFace,
    target: comparedFace,
    embedVersion: z.string(),
  })
  .meta({ id: 'Comparison' });

export const webhook = z
  .object({
    id: z.string().regex(/^wh_[0-9a-f]{16}$/),
    url: z.string(),
    events: z.array(z.enum(['batch.finished', 'image.failed'])),
    owner: z.string().describe('`key:<id>` of the API key that registered it, or `token`'),
    createdAt: epochMs,
  })
  .meta({ id: 'Webhook' });

export const createdWebhook = webhook
  .extend({ secret: z.string().describe('Signs every delivery (HMAC-SHA256, see the header X-Facepipe-Signature); shown in this answer only') })
  .meta({ id: 'CreatedWebhook' });

/** What an erasure removed: counts only, never the erased data. */
export const erasureCounts = z.object({
  images: count.describe('Photos erased whole (original and everything derived)'),
  faces: count.describe('Faces removed from the face index'),
  objectsDeleted: count.describe('Stored objects deleted'),
  objectsRewritten: count.describe('Stored objects rewritten without the erased data (results, manifests, galleries, chips)'),
  rows: count.describe('Database rows deleted'),
  redis: count.describe('Redis keys, fields, jobs and stream entries removed'),
});

/** One entry of the erasure log. */
export const erasureRecord = z
  .object({
    schema: z.literal('facepipe.erasure/1'),
    id: z.string(),
    at: z.string().describe('When (ISO 8601)'),
    actor: z.string().describe('Who asked: `key:<name>`, `token`, `cli:<user>` or `schedule:<id>`'),
    kind: z.enum(['image', 'person', 'retention']),
    mode: z.enum(['photos', 'faces']).optional().describe('Person erasures: `photos` (their photos where only they appear went too) or `faces` (only their faces; photos stay)'),
    subjectRef: z.string().optional().describe('A keyed hash of the image id or name (16 hex digits), not the id or name itself'),
    counts: erasureCounts,
    rule: z.string().optional().describe('Retention runs: the rule applied'),
  })
  .describe('An erasure as logged: who, when, what kind, counts; no image id, name or face data');

export const imageErasure = z.object({
  imageId: z.string(),
  erased: z.literal(true),
  found: z.boolean().describe('Whether anything was stored about the image (false: nothing to erase, e.g. erased before)'),
  erasure: erasureRecord,
});

export const personErasure = z.object({
  mode: z.enum(['photos', 'faces']),
  imagesErased: count.describe('Photos erased whole (only this person appeared in them), with `photos`'),
  imagesKept: count.describe('Photos that stay, without this person\'s faces'),
  erasure: erasureRecord,
});
