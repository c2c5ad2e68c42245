import { ErrorCodes, REJECTION_REASONS } from '@facepipe/core';

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: object, description: string) => ({ description, content: { 'application/json': { schema } } });
const error = (description: string) => json(ref('Error'), description);
const imageId = { name: 'id', in: 'path', required: true, description: 'Image id: the sha256 of its bytes, lowercase hex', schema: { type: 'string', pattern: '^[0-9a-f]{64}$' } };
const batchId = { name: 'id', in: 'path', required: true, schema: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' } };
const queue = { name: 'queue', in: 'path', required: true, schema: { type: 'string', enum: ['detect', 'embed', 'classify', 'gallery', 'maintenance'] } };
const code = { name: 'code', in: 'path', required: true, description: 'An error code, e.g. CORRUPT_IMAGE', schema: { type: 'string', pattern: '^[A-Z_]+$' } };
const personName = { name: 'name', in: 'path', required: true, description: "The person's name (URL-encoded)", schema: { type: 'string', maxLength: 100 } };
const jsonBody = (schema: object) => ({ required: true, content: { 'application/json': { schema } } });
const authErrors = {
  '401': error('No credentials, or wrong ones (`Authorization: Bearer <API key or FACEPIPE_API_TOKEN>`)'),
  '403': error("The API key lacks this route's scope (FORBIDDEN)"),
  '429': error('This client address sent FACEPIPE_AUTH_MAX_FAILURES wrong tokens within FACEPIPE_AUTH_WINDOW_S; `Retry-After` says when to try again'),
};

/** The face index routes' answer without DATABASE_URL or with the database down. */
const noIndex = { '503': error('No face index (DATABASE_URL unset) or it does not answer (DATABASE_UNAVAILABLE)') };

const uploadBody = (withBatch: boolean) => ({
  required: true,
  content: {
    'multipart/form-data': {
      schema: {
        type: 'object',
        properties: {
          ...(withBatch
            ? { batchId: { type: 'string', description: 'Add the files to this batch (created on first use, open until closed). Must come before the files. Without it each request is a batch of its own.' } }
            : {}),
          externalId: { type: 'string', description: "The caller's id for the next file part (sent just before it); used as the file's source in results." },
          files: { type: 'array', items: { type: 'string', format: 'binary' }, description: 'One part per image (any field name).' },
        },
      },
    },
  },
});

/**
 * The service's OpenAPI 3.1 description, served at /openapi.json. docs/service.md has a
 * request and response example for each route; a test checks every route is described here.
 */
export const openApiDocument = {
  openapi: '3.1.0',
  info: {
    title: 'facepipe service',
    version: '1',
    description:
      'Upload photos for face detection and recognition, follow images and batches, enroll people, and watch the queues. ' +
      'When FACEPIPE_API_TOKEN is set, every route except /healthz, /readyz, /metrics and /openapi.json needs `Authorization: Bearer <credential>`: ' +
      'the token itself (every scope) or an API key (`fpk_…`, made with `facepipe keys create` or POST /v1/keys) whose scopes include the one the route names in `x-facepipe-scope` (unnamed: read for GET, admin otherwise) ' +
      '(upload, read, people, admin; admin includes all). Browsers sign in on /dashboard with either and get a session cookie instead. ' +
      'Every 4xx/5xx answer has the body `{"error": {"code", "message"}}`; uploads add per-file details in `files`.',
  },
  components: {
    securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
    schemas: {
      Error: {
        type: 'object',
        required: ['error'],
        properties: {
          error: {
            type: 'object',
            required: ['code', 'message'],
            properties: {
              code: { type: 'string', description: `A facepipe error code (${Object.keys(ErrorCodes).join(', ')}) or a request error (UNAUTHORIZED, FORBIDDEN, TOO_MANY_ATTEMPTS, NOT_FOUND, BAD_REQUEST, BAD_JSON, BAD_MULTIPART, BODY_TOO_LARGE, UNSUPPORTED_MEDIA_TYPE, HEADERS_TOO_LARGE, NOT_MULTIPART, NO_FILES, TOO_MANY_FILES, TOO_MANY_PARTS, BATCH_CLOSED, QUEUE_FULL, TIMEOUT, UNKNOWN_QUEUE, SHUTTING_DOWN, UNAVAILABLE, CONFLICT, NOT_RETRYABLE)` },
              message: { type: 'string' },
            },
          },
        },
      },
      ErrorRecord: { type: 'object', required: ['code', 'message'], properties: { code: { type: 'string', enum: Object.keys(ErrorCodes) }, message: { type: 'string' }, stage: { type: 'string' } } },
      UploadedFile: {
        type: 'object',
        required: ['index', 'imageId', 'status', 'duplicate'],
        properties: {
          index: { type: 'integer', description: "The file's position in its batch" },
          filename: { type: ['string', 'null'] },
          externalId: { type: ['string', 'null'] },
          imageId: { type: ['string', 'null'], description: 'sha256 of the bytes (null when the file could not be read)' },
          status: { type: 'string', enum: ['queued', 'done', 'rejected'] },
          duplicate: { type: 'boolean', description: 'The same bytes were already processed or are in flight: not processed again' },
          error: ref('ErrorRecord'),
        },
      },
      UploadResult: {
        type: 'object',
        required: ['batchId', 'open', 'files'],
        properties: {
          error: { type: 'object', required: ['code', 'message'], properties: { code: { type: 'string' }, message: { type: 'string' } }, description: 'On 4xx (every file rejected): the common error object; `files` says why for each' },
          batchId: { type: 'string' },
          open: { type: 'boolean' },
          files: { type: 'array', items: ref('UploadedFile') },
          statusUrl: { type: 'string', description: 'Enrollment answered 202: where its progress and report appear (also in `Location`)' },
        },
      },
      ApiKey: {
        type: 'object',
        required: ['id', 'name', 'scopes', 'createdAt'],
        properties: {
          id: { type: 'string', pattern: '^[0-9a-f]{16}$' },
          name: { type: 'string' },
          scopes: { type: 'array', items: { type: 'string', enum: ['upload', 'read', 'people', 'admin'] } },
          createdAt: { type: 'string', format: 'date-time' },
        },
      },
      ImageStatus: {
        type: 'object',
        required: ['imageId', 'status'],
        properties: {
          imageId: { type: 'string' },
          status: { type: 'string', enum: ['queued', 'processing', 'done', 'failed'] },
          stage: { type: 'string', enum: ['detect', 'embed', 'classify'] },
          jobState: { type: 'string' },
          error: ref('ErrorRecord'),
          current: { type: 'boolean', description: 'The result was made by the pipeline version running now' },
          result: ref('ResultDocument'),
        },
      },
      ResultLine: {
        description: 'One line of `GET /v1/batches/{id}/results`, `facepipe results <batchId>` and `facepipe run --out`',
        oneOf: [
          {
            type: 'object',
            required: ['file', 'imageId', 'faces'],
            properties: {
              file: { type: 'string', description: "The input's source (file name, S3 key or externalId)" },
              imageId: { type: 'string' },
              faces: {
                type: 'array',
                items: {
                  type: 'object',
                  required: ['box', 'score', 'match', 'cluster'],
                  properties: {
                    box: { type: 'array', items: { type: 'number' }, minItems: 4, maxItems: 4, description: '[x, y, width, height] in pixels' },
                    score: { type: 'number' },
                    match: {
                      type: 'object',
                      required: ['name', 'distance'],
                      properties: { name: { type: ['string', 'null'], description: 'The face index\'s person when it has one, else the result\'s name (a name given by hand wins)' }, distance: { type: ['number', 'null'] } },
                    },
                    cluster: { type: ['string', 'null'], description: "The face's cluster of similar unnamed faces in the face index; null when named, in no cluster, or with no face index" },
                  },
                },
              },
            },
          },
          { type: 'object', required: ['file', 'error'], properties: { file: { type: 'string' }, imageId: { type: 'string' }, error: ref('ErrorRecord') } },
        ],
      },
      ResultDocument: {
        type: 'object',
        description: 'results/<imageId>.json (schema facepipe.result/1); see ResultDocument in packages/core/src/results/documents.ts',
        required: ['schema', 'imageId', 'status', 'faceCount', 'faces'],
        properties: {
          schema: { const: 'facepipe.result/1' },
          imageId: { type: 'string' },
          status: { type: 'string', enum: ['done', 'failed'] },
          source: { type: 'string' },
          width: { type: ['integer', 'null'] },
          height: { type: ['integer', 'null'] },
          format: { type: ['string', 'null'] },
          faceCount: { type: 'integer' },
          faces: {
            type: 'array',
            items: {
              type: 'object',
              properties: {
                index: { type: 'integer' },
                box: { type: 'array', items: { type: 'number' }, minItems: 4, maxItems: 4, description: '[x, y, width, height] in original pixels' },
                score: { type: 'number' },
                landmarks: { type: 'array', items: { type: 'array', items: { type: 'number' } } },
                cropKey: { type: 'string' },
                cropIndex: { type: 'integer' },
                embedding: { type: 'array', items: { type: 'number' } },
                match: { type: 'object', properties: { name: { type: ['string', 'null'] }, distance: { type: ['number', 'null'] }, confidence: { type: 'number' }, method: { type: 'string' }, galleryVersion: { type: ['integer', 'null'] } } },
                name: { type: ['string', 'null'] },
                quality: {
                  type: 'object',
                  description: 'Absent in results of earlier versions; see FaceQuality in packages/core/src/results/documents.ts',
                  properties: { shapeResidual: { type: 'number' }, yaw: { type: 'number' }, pitch: { type: 'number' }, sharpness: { type: 'number' } },
                },
              },
            },
          },
          rejected: {
            type: 'array',
            description: 'Detections set aside, with the reason (absent in results of earlier versions)',
            items: {
              type: 'object',
              properties: {
                box: { type: 'array', items: { type: 'number' }, minItems: 4, maxItems: 4 },
                score: { type: 'number' },
                reason: { type: 'string', enum: Object.keys(REJECTION_REASONS) },
              },
            },
          },
          error: ref('ErrorRecord'),
          versions: { type: 'object' },
          timings: { type: 'object', additionalProperties: { type: 'number' } },
          processedAt: { type: 'string', format: 'date-time' },
        },
      },
      Batch: {
        type: 'object',
        required: ['id', 'total', 'done', 'failed', 'open', 'progress'],
        properties: {
          id: { type: 'string' },
          purpose: { type: 'string', enum: ['ingest', 'enroll', 'reindex'] },
          source: { type: 'string' },
          createdAt: { type: 'integer', description: 'ms since epoch' },
          total: { type: 'integer' },
          done: { type: 'integer' },
          failed: { type: 'integer' },
          faces: { type: 'integer' },
          cached: { type: 'integer' },
          ingested: { type: 'boolean' },
          open: { type: 'boolean', description: 'Still takes uploads' },
          finishedAt: { type: 'integer' },
          errors: { type: 'object', additionalProperties: { type: 'integer' } },
          finished: { type: 'integer' },
          progress: { type: 'number', minimum: 0, maximum: 1 },
          ratePerSecond: { type: 'number' },
          etaSeconds: { type: ['number', 'null'] },
          enrollment: { type: 'object', description: 'Enrollment batches: the enrollment report, once the gallery was built' },
        },
      },
      EnrollmentReport: {
        type: 'object',
        properties: {
          schema: { const: 'facepipe.enrollment/1' },
          batchId: { type: 'string' },
          galleryVersion: { type: 'integer' },
          items: { type: 'array', items: { type: 'object', properties: { source: { type: 'string' }, person: { type: 'string' }, imageId: { type: ['string', 'null'] }, status: { type: 'string', enum: ['enrolled', 'rejected'] }, error: ref('ErrorRecord') } } },
        },
      },
      People: {
        type: 'object',
        properties: {
          galleryVersion: { type: ['integer', 'null'] },
          people: {
            type: 'array',
            items: {
              type: 'object',
              required: ['name', 'faces', 'faceCount'],
              properties: {
                id: { type: 'string', description: 'In the face index (absent for people only the gallery knows)' },
                name: { type: 'string' },
                hidden: { type: 'boolean' },
                faceCount: { type: 'integer', description: 'Faces in the library that are this person' },
                examples: { type: 'integer' },
                faces: { type: 'array', description: 'Their enrolled faces in the current gallery', items: { type: 'object', properties: { imageId: { type: 'string' }, cropIndex: { type: 'integer' } } } },
              },
            },
          },
        },
      },
      LibraryPerson: {
        type: 'object',
        description: 'A person of the face index',
        required: ['id', 'name', 'hidden', 'faceCount', 'examples'],
        properties: {
          id: { type: 'string' },
          name: { type: 'string' },
          hidden: { type: 'boolean' },
          faceCount: { type: 'integer', description: 'Faces in the library that are this person' },
          examples: { type: 'integer', description: 'Faces that name others: enrolled, from a named cluster, or named by hand' },
        },
      },
      Cluster: {
        type: 'object',
        required: ['id', 'faces', 'embedVersion', 'samples'],
        properties: {
          id: { type: 'string', pattern: '^[0-9]+$', description: 'Stable while most of its faces stay together' },
          faces: { type: 'integer' },
          embedVersion: { type: 'string' },
          samples: { type: 'array', items: ref('FaceRef'), description: 'A few of its faces (GET /v1/images/{imageId}/crops has their crops)' },
        },
      },
      FaceRef: { type: 'object', required: ['imageId', 'face', 'source'], properties: { imageId: { type: 'string' }, face: { type: 'integer', description: "The face's index in its image" }, source: { type: 'string' } } },
      SearchHit: {
        type: 'object',
        description: 'As a line of `facepipe search --json`',
        required: ['imageId', 'source', 'face', 'distance', 'name', 'cluster'],
        properties: {
          imageId: { type: 'string' },
          source: { type: 'string', description: 'The file as it was ingested (or the upload\'s file name / externalId)' },
          face: { type: 'integer' },
          distance: { type: 'number', description: 'Euclidean distance between the embeddings (same person below about 0.6)' },
          name: { type: ['string', 'null'] },
          cluster: { type: ['string', 'null'], description: 'Its cluster when nobody is set on it' },
        },
      },
      Schedule: {
        type: 'object',
        required: ['id', 'kind', 'everyMs', 'cron', 'tz', 'nextRunAt'],
        properties: {
          id: { type: 'string', pattern: '^[a-z0-9][a-z0-9_-]{0,62}$' },
          kind: { type: 'string', enum: ['classify', 'stale'], description: 'The re-index each tick queues as a batch (as `facepipe reindex <kind>`)' },
          everyMs: { type: ['integer', 'null'] },
          cron: { type: ['string', 'null'] },
          tz: { type: ['string', 'null'] },
          nextRunAt: { type: ['integer', 'null'], description: 'ms since epoch' },
        },
      },
      Ready: { type: 'object', properties: { ready: { type: 'boolean' }, checks: { type: 'object', additionalProperties: { type: 'object', properties: { ok: { type: 'boolean' }, detail: { type: 'string' } } } } } },
    },
  },
  security: [{ bearer: [] }],
  paths: {
    '/v1/images': {
      post: {
        'x-facepipe-scope': 'upload',
        summary: 'Upload one or many images',
        description:
          'Reads the whole request first (files wait in a temp dir): a request refused as a whole (400, 409, 413 TOO_MANY_FILES/TOO_MANY_PARTS, 415) stores and queues nothing. ' +
          'Then hashes each file (image id = sha256), checks its header (format, pixel limit) and queues it. The same bytes always get the same id and are never processed twice. ' +
          '202: every file accepted; 207: some rejected (see each file); 4xx: every file rejected, with the status of the first (413 over a limit, 415 not an image, 422 unreadable).',
        requestBody: uploadBody(true),
        responses: {
          '202': { ...json(ref('UploadResult'), 'Every file accepted'), headers: { Location: { description: 'The batch: GET it for progress', schema: { type: 'string' } } } },
          '207': { ...json(ref('UploadResult'), 'Some files rejected; each says why'), headers: { Location: { description: 'The batch: GET it for progress', schema: { type: 'string' } } } },
          '400': error('No files (NO_FILES), an unknown field, a bad batchId/externalId, batchId after the files (BAD_REQUEST), or a malformed body (BAD_MULTIPART)'),
          ...authErrors,
          '409': error('The batch is closed to uploads (BATCH_CLOSED)'),
          '413': json({ oneOf: [ref('UploadResult'), ref('Error')] }, 'Over FACEPIPE_UPLOAD_MAX_BYTES / FACEPIPE_MAX_PIXELS (FILE_TOO_LARGE, IMAGE_TOO_LARGE) or too many files or parts (TOO_MANY_FILES, TOO_MANY_PARTS)'),
          '415': json({ oneOf: [ref('UploadResult'), ref('Error')] }, 'Not an image (NOT_AN_IMAGE, UNSUPPORTED_FORMAT), or not multipart/form-data (NOT_MULTIPART)'),
          '422': json(ref('UploadResult'), 'An unreadable image (EMPTY_INPUT, TRUNCATED_IMAGE, CORRUPT_IMAGE)'),
          '503': error('The detect queue is full (QUEUE_FULL, with Retry-After) or storage is down'),
        },
      },
    },
    '/v1/images/{id}': {
      get: {
        summary: "An image's status, and its result once done",
        parameters: [imageId],
        responses: { '200': json(ref('ImageStatus'), 'Known image'), '400': error('Not an image id'), ...authErrors, '404': error('Nothing is known about this id') },
      },
    },
    '/v1/images/{id}/original': {
      get: {
        summary: 'The uploaded bytes',
        parameters: [imageId],
        responses: { '200': { description: 'The original image', content: { 'image/*': { schema: { type: 'string', format: 'binary' } } } }, ...authErrors, '404': error('No such image') },
      },
    },
    '/v1/images/{id}/crops': {
      get: {
        summary: 'The aligned face crops, 150×150 each, stacked top to bottom in face order (cropIndex)',
        parameters: [imageId],
        responses: { '200': { description: 'PNG', content: { 'image/png': { schema: { type: 'string', format: 'binary' } } } }, ...authErrors, '404': error('No result with faces for this image') },
      },
    },
    '/v1/batches': {
      get: { summary: 'Recent batches, newest first', parameters: [{ name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 500, default: 50 } }], responses: { '200': json({ type: 'object', properties: { batches: { type: 'array', items: ref('Batch') } } }, 'Batches'), ...authErrors } },
    },
    '/v1/batches/{id}': {
      get: { summary: "A batch's counts, progress, rate and time left", parameters: [batchId], responses: { '200': json(ref('Batch'), 'The batch'), ...authErrors, '404': error('No such batch') } },
    },
    '/v1/batches/{id}/close': {
      post: {
        'x-facepipe-scope': 'upload',
        summary: 'Close an upload batch: it takes no more files and finishes once its files are processed',
        parameters: [batchId],
        responses: { '200': json(ref('Batch'), 'The closed batch'), ...authErrors, '404': error('No such batch') },
      },
    },
    '/v1/batches/{id}/results': {
      get: {
        summary: "A batch's results, one JSON line per input in manifest order (as `facepipe results` and `facepipe run --out`)",
        description:
          'Each line is `{"file","imageId","faces":[{"box","score","match":{"name","distance"},"cluster"}]}`, or `{"file","imageId"?,"error":{"code","message"}}` for an input that could not be used. ' +
          "With a face index (DATABASE_URL), names and clusters come from the index as it is now (a cluster named or a person renamed since the image was processed shows); `cluster` is the id of the face's group of similar unnamed faces (`GET /v1/clusters`), or null when the face is named or in no group. " +
          'Without a face index, names come from the result documents and `cluster` is null.',
        parameters: [batchId],
        responses: {
          '200': { description: 'NDJSON, one ResultLine per input', content: { 'application/x-ndjson': { schema: ref('ResultLine') } } },
          ...authErrors,
          '404': error('No such batch'),
          '503': error('DATABASE_URL is set but the face index does not answer (DATABASE_UNAVAILABLE)'),
        },
      },
    },
    '/v1/people/{name}/images': {
      post: {
        'x-facepipe-scope': 'people',
        summary: 'Enroll photos of a person (one face each) and publish a new gallery version',
        description:
          'Waits (up to 20 s) until the photos are processed and the gallery is built, then answers the enrollment report. ' +
          'A longer wait, a paused pipeline queue, or `?wait=false` answers 202 with `Location: /v1/batches/{id}` (also `statusUrl`): the enrollment goes on in the background and its report appears there as `enrollment`.',
        parameters: [
          { name: 'name', in: 'path', required: true, schema: { type: 'string', maxLength: 100 } },
          { name: 'wait', in: 'query', schema: { type: 'boolean', default: true } },
        ],
        requestBody: uploadBody(false),
        responses: {
          '200': json({ type: 'object', properties: { batchId: { type: 'string' }, files: { type: 'array', items: ref('UploadedFile') }, enrollment: ref('EnrollmentReport') } }, 'Enrolled (see each item: enrolled or rejected with NO_FACE, MULTIPLE_FACES…)'),
          '202': { ...json(ref('UploadResult'), 'Accepted; the enrollment finishes in the background'), headers: { Location: { description: 'GET this for progress and, when done, the report', schema: { type: 'string' } } } },
          '400': error('Not a valid person name, or no files'),
          ...authErrors,
          '413': error('Over a limit'),
          '415': error('Not an image'),
          '504': error('The enrollment failed or was not done within its 600 s limit (TIMEOUT)'),
        },
      },
    },
    '/v1/people': {
      get: {
        summary: 'Every person in the library with their face counts, and the enrolled faces of the gallery',
        description: 'With a face index (DATABASE_URL): each person of the index with `faceCount` (faces in the library), `examples`, `hidden` and `faces` (their faces in the current gallery); people only the gallery knows follow. Without one: the gallery only.',
        parameters: [{ name: 'hidden', in: 'query', schema: { type: 'boolean', default: false }, description: 'Include hidden people' }],
        responses: { '200': json(ref('People'), 'People'), ...authErrors, '503': error('The face index does not answer (DATABASE_UNAVAILABLE)') },
      },
    },
    '/v1/people/{name}': {
      get: { summary: 'One person of the library', parameters: [personName], responses: { '200': json(ref('LibraryPerson'), 'The person'), ...authErrors, '404': error('Nobody of this name'), ...noIndex } },
      patch: {
        'x-facepipe-scope': 'people',
        summary: 'Rename and/or hide (or show) a person',
        parameters: [personName],
        requestBody: jsonBody({ type: 'object', properties: { name: { type: 'string', maxLength: 100 }, hidden: { type: 'boolean' } }, additionalProperties: false }),
        responses: {
          '200': json({ allOf: [ref('LibraryPerson'), { type: 'object', properties: { resultsUpdated: { type: 'integer', description: 'Result documents rewritten with the new name' } } }] }, 'The person now'),
          '400': error('Not JSON, an unknown field, or a bad name (BAD_REQUEST, INVALID_PAYLOAD)'),
          ...authErrors,
          '404': error('Nobody of this name'),
          '409': error('Someone already has the new name: merge instead (CONFLICT)'),
          ...noIndex,
        },
      },
      delete: {
        'x-facepipe-scope': 'people',
        summary: "Delete a person: their faces become nobody's (and may be clustered again)",
        parameters: [personName],
        responses: { '200': json({ type: 'object', properties: { name: { type: 'string' }, deleted: { const: true }, faces: { type: 'integer' }, resultsUpdated: { type: 'integer' } } }, 'Deleted'), ...authErrors, '404': error('Nobody of this name'), ...noIndex },
      },
    },
    '/v1/people/{name}/merge': {
      post: {
        'x-facepipe-scope': 'people',
        summary: "Merge a person into another: their faces, examples and hand labels become the other's",
        parameters: [personName],
        requestBody: jsonBody({ type: 'object', required: ['into'], properties: { into: { type: 'string' } }, additionalProperties: false }),
        responses: {
          '200': json({ type: 'object', properties: { merged: { type: 'string' }, into: ref('LibraryPerson'), faces: { type: 'integer' }, resultsUpdated: { type: 'integer' } } }, 'Merged'),
          '400': error('Not JSON, or a person merged into themselves'),
          ...authErrors,
          '404': error('Nobody of one of the names'),
          ...noIndex,
        },
      },
    },
    '/v1/people/{name}/faces': {
      get: {
        summary: "A person's faces, a page at a time (oldest first)",
        parameters: [
          personName,
          { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 500, default: 100 } },
          { name: 'cursor', in: 'query', schema: { type: 'string' }, description: 'The `nextCursor` of the previous page' },
        ],
        responses: {
          '200': json(
            {
              type: 'object',
              properties: {
                name: { type: 'string' },
                faces: { type: 'array', items: { allOf: [ref('FaceRef'), { type: 'object', properties: { faceId: { type: 'string' }, how: { type: ['string', 'null'], enum: ['auto', 'hand', 'enrolled', null] }, distance: { type: ['number', 'null'], description: 'For `auto`: the distance to the example that named it' } } }] } },
                nextCursor: { type: ['string', 'null'], description: 'null on the last page' },
              },
            },
            'A page',
          ),
          '400': error('A bad limit or cursor'),
          ...authErrors,
          '404': error('Nobody of this name'),
          ...noIndex,
        },
      },
    },
    '/v1/clusters': {
      get: { summary: 'Groups of similar faces nobody has named yet, largest first', responses: { '200': json({ type: 'object', properties: { clusters: { type: 'array', items: ref('Cluster') } } }, 'Clusters'), ...authErrors, ...noIndex } },
    },
    '/v1/clusters/{id}/name': {
      post: {
        'x-facepipe-scope': 'people',
        summary: "Name a cluster: its faces become the person's (as enrollment), and matching faces across the library are named at once",
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string', pattern: '^[0-9]+$' } }],
        requestBody: jsonBody({ type: 'object', required: ['name'], properties: { name: { type: 'string', maxLength: 100 } }, additionalProperties: false }),
        responses: {
          '200': json({ type: 'object', properties: { cluster: { type: 'string' }, person: ref('LibraryPerson'), faces: { type: 'integer', description: 'Faces named' }, resultsUpdated: { type: 'integer' } } }, 'Named'),
          '400': error('Not JSON, or not a valid name'),
          ...authErrors,
          '404': error('No such cluster (or it has no faces)'),
          ...noIndex,
        },
      },
    },
    '/v1/faces/{imageId}/{face}/person': {
      put: {
        'x-facepipe-scope': 'people',
        summary: 'Move one face to a person (created when new), or to nobody (`"name": null`: "this is not them")',
        description: 'Set by hand: kept by box through every re-run and re-index; a face moved to a person names matching faces like an example.',
        parameters: [
          { ...imageId, name: 'imageId' },
          { name: 'face', in: 'path', required: true, schema: { type: 'integer', minimum: 0 }, description: "The face's index in its image" },
        ],
        requestBody: jsonBody({ type: 'object', required: ['name'], properties: { name: { type: ['string', 'null'], maxLength: 100 } }, additionalProperties: false }),
        responses: {
          '200': json({ type: 'object', properties: { imageId: { type: 'string' }, face: { type: 'integer' }, name: { type: ['string', 'null'] }, how: { const: 'hand' }, cluster: { type: ['string', 'null'] }, faces: { type: 'integer', description: 'Faces whose person changed' }, resultsUpdated: { type: 'integer' } } }, 'The face now'),
          '400': error('Not JSON, a bad image id or face, or a bad name'),
          ...authErrors,
          '404': error('The index has no such face'),
          ...noIndex,
        },
      },
    },
    '/v1/search': {
      post: {
        'x-facepipe-scope': 'read',
        summary: 'Search by face: the library faces nearest to the largest face of a photo (or its face `face`), nearest first',
        description: 'The photo is detected and embedded here with the pipeline\'s models (loaded on the first search). The hits are those of `facepipe search --json` (HNSW, approximate).',
        parameters: [
          { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000, default: 10 } },
          { name: 'face', in: 'query', schema: { type: 'integer', minimum: 0 } },
        ],
        requestBody: {
          required: true,
          content: {
            'multipart/form-data': {
              schema: {
                type: 'object',
                properties: {
                  face: { type: 'integer', minimum: 0, description: 'Which face of the photo (detection order, from 0); default: the largest' },
                  limit: { type: 'integer', minimum: 1, maximum: 1000, default: 10 },
                  photo: { type: 'string', format: 'binary', description: 'One photo (any field name)' },
                },
              },
            },
          },
        },
        responses: {
          '200': json({ type: 'object', properties: { face: { type: 'integer', description: 'The face searched' }, faces: { type: 'integer', description: 'Faces found in the photo' }, embedVersion: { type: 'string' }, hits: { type: 'array', items: ref('SearchHit') } } }, 'Hits, nearest first'),
          '400': error('No photo (NO_FILES), an unknown field, a bad limit, or a face beyond those found (INVALID_PAYLOAD)'),
          ...authErrors,
          '413': error('Over FACEPIPE_UPLOAD_MAX_BYTES or FACEPIPE_MAX_PIXELS, or more than one photo'),
          '415': error('Not an image, or not multipart/form-data'),
          '422': error('No face in the photo (NO_FACE), or unreadable'),
          ...noIndex,
        },
      },
    },
    '/v1/schedules': {
      post: {
        'x-facepipe-scope': 'admin',
        summary: 'Create (or replace, by id) a scheduled re-index: an interval or a cron pattern',
        requestBody: jsonBody({
          type: 'object',
          required: ['id', 'kind'],
          properties: {
            id: { type: 'string', pattern: '^[a-z0-9][a-z0-9_-]{0,62}$' },
            kind: { type: 'string', enum: ['classify', 'stale'] },
            every: { type: ['string', 'integer'], description: '"90s", "15m", "6h", "1d" or ms; at least 1 minute' },
            cron: { type: 'string', description: '5 or 6 fields, e.g. "0 3 * * *"' },
            tz: { type: 'string', description: 'Time zone of the cron pattern' },
            runNow: { type: 'boolean', default: false, description: 'Also run once right away; otherwise the first run is one interval after creation (every) or at the next match (cron)' },
          },
          additionalProperties: false,
        }),
        responses: { '201': json(ref('Schedule'), 'The schedule, with its next run'), '400': error('A bad id, kind, interval or cron pattern'), ...authErrors },
      },
      get: { 'x-facepipe-scope': 'admin', summary: 'Every scheduled re-index, by next run', responses: { '200': json({ type: 'object', properties: { schedules: { type: 'array', items: ref('Schedule') } } }, 'Schedules'), ...authErrors } },
    },
    '/v1/schedules/{id}': {
      delete: {
        'x-facepipe-scope': 'admin',
        summary: 'Delete a scheduled re-index',
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
        responses: { '200': json({ type: 'object', properties: { id: { type: 'string' }, deleted: { const: true } } }, 'Deleted'), ...authErrors, '404': error('No such schedule') },
      },
    },
    '/v1/keys': {
      post: {
        summary: 'Create an API key; the key is in this answer only (stored as its sha256)',
        'x-facepipe-scope': 'admin',
        requestBody: {
          required: true,
          content: { 'application/json': { schema: { type: 'object', required: ['name', 'scopes'], properties: { name: { type: 'string', maxLength: 100 }, scopes: { type: 'array', items: { type: 'string', enum: ['upload', 'read', 'people', 'admin'] } } } } } },
        },
        responses: {
          '201': json({ allOf: [ref('ApiKey'), { type: 'object', required: ['key'], properties: { key: { type: 'string', description: 'fpk_<id>_<secret>: send as `Authorization: Bearer <key>`' } } }] }, 'The new key'),
          '400': error('A bad name or scope, or not JSON (BAD_REQUEST, BAD_JSON)'),
          ...authErrors,
        },
      },
      get: { summary: 'Every API key, without secrets', 'x-facepipe-scope': 'admin', responses: { '200': json({ type: 'object', properties: { keys: { type: 'array', items: ref('ApiKey') } } }, 'Keys'), ...authErrors } },
    },
    '/v1/keys/{id}': {
      delete: {
        summary: 'Revoke an API key (at once, in every service process)',
        'x-facepipe-scope': 'admin',
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
        responses: { '200': json({ type: 'object', properties: { id: { type: 'string' }, revoked: { const: true } } }, 'Revoked'), ...authErrors, '404': error('No such key') },
      },
    },
    '/dashboard/api/overview': {
      get: {
        summary: 'Per queue: job counts, paused, workers, completed/failed per minute, wait and run percentiles; batches (newest first, small uploads grouped) with state, recent rate and ETA; banners',
        parameters: [
          { name: 'kind', in: 'query', schema: { type: 'string', enum: ['all', 'ingest', 'upload', 'enroll', 'reindex'] } },
          { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 500, default: 50 } },
        ],
        responses: { '200': json({ type: 'object' }, 'Overview'), '400': error('Unknown kind'), ...authErrors },
      },
    },
    '/dashboard/api/batches/{id}': {
      get: { summary: 'One batch: state, recent rate, ETA, failures per error code (admission rejections included) with whether retrying can help', parameters: [batchId], responses: { '200': json({ type: 'object' }, 'Batch'), ...authErrors, '404': error('No such batch') } },
    },
    '/dashboard/api/batches/{id}/items': {
      get: {
        summary: "A batch's inputs in order, with their faces (names, how each was given) or errors",
        parameters: [batchId, { name: 'offset', in: 'query', schema: { type: 'integer', minimum: 0, default: 0 } }, { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 200, default: 24 } }],
        responses: { '200': json({ type: 'object', properties: { items: { type: 'array', items: { type: 'object' } }, next: { type: ['integer', 'null'] } } }, 'Items'), ...authErrors, '404': error('No such batch') },
      },
    },
    '/dashboard/api/batches/{id}/failures/{code}/retry': {
      post: {
        summary: "Retry this batch's failed jobs with this error code, in every queue",
        parameters: [batchId, code],
        responses: { '200': json({ type: 'object', properties: { retried: { type: 'integer' } } }, 'Retried'), ...authErrors, '404': error('No such batch'), '409': error('An input error: retrying cannot succeed (NOT_RETRYABLE)') },
      },
    },
    '/dashboard/api/failures': {
      get: { summary: 'Failed jobs per queue grouped by error code, each with its newest job', responses: { '200': json({ type: 'array', items: { type: 'object' } }, 'Failures'), ...authErrors } },
    },
    '/dashboard/api/recent': {
      get: { summary: 'The newest results, with boxes, names and distances', responses: { '200': json({ type: 'object', properties: { results: { type: 'array', items: { type: 'object' } } } }, 'Recent results'), ...authErrors } },
    },
    '/dashboard/api/queues/{queue}/pause': { post: { summary: 'Pause a queue (workers finish active jobs, take no new ones)', parameters: [queue], responses: { '200': json({ type: 'object', properties: { queue: { type: 'string' }, paused: { type: 'boolean' } } }, 'Paused'), ...authErrors, '404': error('No such queue') } } },
    '/dashboard/api/queues/{queue}/resume': { post: { summary: 'Resume a paused queue', parameters: [queue], responses: { '200': json({ type: 'object', properties: { queue: { type: 'string' }, paused: { type: 'boolean' } } }, 'Resumed'), ...authErrors, '404': error('No such queue') } } },
    '/dashboard/api/queues/{queue}/failures/{code}/retry': { post: { summary: 'Retry every failed job of a queue with this error code', parameters: [queue, code], responses: { '200': json({ type: 'object', properties: { retried: { type: 'integer' } } }, 'Retried'), ...authErrors, '409': error('An input error: retrying the same bytes cannot succeed (NOT_RETRYABLE)') } } },
    '/dashboard/api/queues/{queue}/failures/{code}/discard': { post: { summary: 'Remove every failed job of a queue with this error code (failed results stay)', parameters: [queue, code], responses: { '200': json({ type: 'object', properties: { discarded: { type: 'integer' } } }, 'Discarded'), ...authErrors } } },
    '/healthz': { get: { summary: 'The process answers', security: [], responses: { '200': json({ type: 'object' }, 'Alive') } } },
    '/readyz': { get: { summary: 'Redis and S3 answer and the model versions are known', security: [], responses: { '200': json(ref('Ready'), 'Ready'), '503': json(ref('Ready'), 'Not ready, with the failing checks') } } },
    '/metrics': { get: { summary: 'Prometheus metrics', security: [], responses: { '200': { description: 'Prometheus text format', content: { 'text/plain': { schema: { type: 'string' } } } } } } },
    '/openapi.json': { get: { summary: 'This document', security: [], responses: { '200': json({ type: 'object' }, 'OpenAPI 3.1') } } },
  },
} as const;
