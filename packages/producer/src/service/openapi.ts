import { ErrorCodes } from '@facepipe/core';

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: object, description: string) => ({ description, content: { 'application/json': { schema } } });
const error = (description: string) => json(ref('Error'), description);
const imageId = { name: 'id', in: 'path', required: true, description: 'Image id: the sha256 of its bytes, lowercase hex', schema: { type: 'string', pattern: '^[0-9a-f]{64}$' } };
const batchId = { name: 'id', in: 'path', required: true, schema: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' } };
const queue = { name: 'queue', in: 'path', required: true, schema: { type: 'string', enum: ['detect', 'embed', 'classify', 'gallery', 'maintenance'] } };
const code = { name: 'code', in: 'path', required: true, description: 'An error code, e.g. CORRUPT_IMAGE', schema: { type: 'string', pattern: '^[A-Z_]+$' } };
const authErrors = {
  '401': error('No token, or a wrong one (`Authorization: Bearer <FACEPIPE_API_TOKEN>`)'),
  '429': error('This client address sent FACEPIPE_AUTH_MAX_FAILURES wrong tokens within FACEPIPE_AUTH_WINDOW_S; `Retry-After` says when to try again'),
};

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
      'When FACEPIPE_API_TOKEN is set, every route except /healthz, /readyz, /metrics and /openapi.json needs `Authorization: Bearer <token>` ' +
      '(browsers sign in on /dashboard and get a session cookie instead).',
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
              code: { type: 'string', description: `A facepipe error code (${Object.keys(ErrorCodes).join(', ')}) or a request error (UNAUTHORIZED, TOO_MANY_ATTEMPTS, NOT_FOUND, BAD_REQUEST, NOT_MULTIPART, NO_FILES, TOO_MANY_FILES, BATCH_CLOSED, QUEUE_FULL, UNKNOWN_QUEUE)` },
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
        properties: { batchId: { type: 'string' }, open: { type: 'boolean' }, files: { type: 'array', items: ref('UploadedFile') } },
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
          people: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' }, faces: { type: 'array', items: { type: 'object', properties: { imageId: { type: 'string' }, cropIndex: { type: 'integer' } } } } } } },
        },
      },
      Ready: { type: 'object', properties: { ready: { type: 'boolean' }, checks: { type: 'object', additionalProperties: { type: 'object', properties: { ok: { type: 'boolean' }, detail: { type: 'string' } } } } } },
    },
  },
  security: [{ bearer: [] }],
  paths: {
    '/v1/images': {
      post: {
        summary: 'Upload one or many images',
        description:
          'Streams each file part, hashes it (image id = sha256), checks its header (format, pixel limit) and queues it. The same bytes always get the same id and are never processed twice. ' +
          '202: every file accepted; 207: some rejected (see each file); 4xx: every file rejected, with the status of the first (413 over a limit, 415 not an image, 422 unreadable).',
        requestBody: uploadBody(true),
        responses: {
          '202': json(ref('UploadResult'), 'Every file accepted'),
          '207': json(ref('UploadResult'), 'Some files rejected; each says why'),
          '400': error('No files, an unknown field, or a bad batchId/externalId'),
          ...authErrors,
          '409': error('The batch is closed to uploads (BATCH_CLOSED)'),
          '413': json({ oneOf: [ref('UploadResult'), ref('Error')] }, 'Over FACEPIPE_UPLOAD_MAX_BYTES / FACEPIPE_MAX_PIXELS (FILE_TOO_LARGE, IMAGE_TOO_LARGE) or too many files (TOO_MANY_FILES)'),
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
        summary: 'Close an upload batch: it takes no more files and finishes once its files are processed',
        parameters: [batchId],
        responses: { '200': json(ref('Batch'), 'The closed batch'), ...authErrors, '404': error('No such batch') },
      },
    },
    '/v1/batches/{id}/results': {
      get: {
        summary: "A batch's results, one JSON line per input in manifest order (as `facepipe results`)",
        parameters: [batchId],
        responses: { '200': { description: 'NDJSON', content: { 'application/x-ndjson': { schema: { type: 'string' } } } }, ...authErrors, '404': error('No such batch') },
      },
    },
    '/v1/people/{name}/images': {
      post: {
        summary: 'Enroll photos of a person (one face each) and publish a new gallery version',
        description: 'Waits until the photos are processed and the gallery is built, then answers the enrollment report. With `?wait=false` answers 202 at once; the report then appears in GET /v1/batches/{id}.',
        parameters: [
          { name: 'name', in: 'path', required: true, schema: { type: 'string', maxLength: 100 } },
          { name: 'wait', in: 'query', schema: { type: 'boolean', default: true } },
        ],
        requestBody: uploadBody(false),
        responses: {
          '200': json({ type: 'object', properties: { batchId: { type: 'string' }, files: { type: 'array', items: ref('UploadedFile') }, enrollment: ref('EnrollmentReport') } }, 'Enrolled (see each item: enrolled or rejected with NO_FACE, MULTIPLE_FACES…)'),
          '202': json(ref('UploadResult'), 'Accepted; enrollment finishes in the background'),
          '400': error('Not a valid person name, or no files'),
          ...authErrors,
          '413': error('Over a limit'),
          '415': error('Not an image'),
          '504': error('The photos were not processed in time; the enrollment finishes in the background'),
        },
      },
    },
    '/v1/people': {
      get: { summary: 'People in the current gallery, with their enrolled faces', responses: { '200': json(ref('People'), 'The gallery'), ...authErrors } },
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
