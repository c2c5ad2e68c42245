import { z } from 'zod';
import { boxSchema, queueStates } from '@facepipe/core';
import type * as Dashboard from '../dashboard/api-types.js';
import { batchKinds } from '../dashboard-batches.js';
import { count, epochMs } from './fields.js';
import type { cluster, clusterFaces, clusterNamePreview, libraryPerson, people, peopleAuditEntry, personFaces } from './schemas.js';

// The dashboard's JSON (/dashboard/api/…) as zod schemas, for /openapi.json and the contract
// test. The types the service builds it with and the dashboard reads it with are
// ../dashboard/api-types.ts (the browser script cannot import zod); the checks at the end
// compile only while each schema and its type agree, the /v1 answers the dashboard reads included.

const batchState = z.enum(['running', 'paused', 'waiting', 'stalled', 'finished']);

const dashboardBatch = z
  .object({
    id: z.string(),
    kind: z.enum(batchKinds),
    source: z.string(),
    createdAt: epochMs,
    finishedAt: epochMs.nullable(),
    open: z.boolean(),
    total: count,
    done: count,
    failed: count,
    faces: count,
    cached: count,
    progress: z.number().min(0).max(1),
    state: batchState,
    ratePerSecond: z.number().nullable().describe('Items per second over the last minute; null when not known yet or not running'),
    etaSeconds: z.number().nullable(),
    idleSeconds: z.number(),
    durationSeconds: z.number().nullable(),
    errors: z.record(z.string(), count),
  })
  .meta({ id: 'DashboardBatch' });

const uploadGroup = z.object({
  kind: z.literal('upload-group'),
  batches: z.array(dashboardBatch),
  total: count,
  done: count,
  failed: count,
  faces: count,
  newestAt: epochMs,
  oldestAt: epochMs,
  state: batchState,
});

const percentiles = z.object({ p50: z.number().nullable(), p95: z.number().nullable(), p99: z.number().nullable() });

const queueOverview = z.object({
  name: z.string(),
  counts: z.object(Object.fromEntries(queueStates.map((s) => [s, count])) as Record<(typeof queueStates)[number], typeof count>),
  paused: z.boolean(),
  workers: count,
  completedPerMinute: z.array(count),
  failedPerMinute: z.array(count),
  latency: z.object({ samples: count, waitMs: percentiles, processMs: percentiles }),
});

const alert = z.object({
  kind: z.enum(['no-workers', 'paused', 'failure-rate', 'stalled', 'disk-full', 'disk-low', 'held-back', 'not-admitted']),
  severity: z.enum(['error', 'warning']),
  message: z.string(),
  queue: z.string().optional(),
  batchId: z.string().optional(),
  dir: z.string().optional().describe('The data dir of a disk-full or disk-low banner'),
});

export const overview = z
  .object({
    generatedAt: z.string(),
    queues: z.array(queueOverview),
    batches: z.array(z.union([dashboardBatch, uploadGroup])).describe('Newest first, small uploads grouped'),
    alerts: z.array(alert).describe('Banners, most urgent first'),
    gallery: z.object({ version: count, people: count, faces: count }).nullable(),
    admission: z
      .object({
        heldBackBy: z.array(z.string()).describe('Stages whose waiting jobs reached their bound: new inputs wait until they catch up'),
        stages: z.array(z.object({ stage: z.string(), waiting: count, bound: count })),
      })
      .describe('Whole-pipeline backpressure (FACEPIPE_MAX_QUEUED, FACEPIPE_MAX_QUEUED_EMBED, FACEPIPE_MAX_QUEUED_CLASSIFY)'),
  })
  .meta({ id: 'Overview' });

const codeCount = z.object({ code: z.string(), count, retryable: z.boolean(), summary: z.string() });

export const batchDetail = z.object({ batch: dashboardBatch, failures: z.array(codeCount) });

const itemFace = z.object({
  box: boxSchema,
  cropIndex: count,
  name: z.string().nullable(),
  naming: z.enum(['hand', 'named', 'auto', 'unknown']),
  matchName: z.string().nullable(),
  distance: z.number().nullable(),
});

const itemRejected = z.object({ box: boxSchema, score: z.number(), reason: z.string(), looksLike: z.string().optional() });

export const batchItems = z.object({
  items: z.array(
    z.object({
      index: count,
      file: z.string(),
      imageId: z.string().nullable(),
      status: z.enum(['done', 'failed', 'pending']),
      error: z.object({ code: z.string(), message: z.string(), retryable: z.boolean(), admission: z.boolean() }).optional(),
      width: count.nullable(),
      height: count.nullable(),
      faces: z.array(itemFace),
      rejected: z.array(itemRejected),
    }),
  ),
  next: count.nullable(),
});

const failureSample = z.object({
  id: z.string(),
  failedReason: z.string(),
  attemptsMade: count,
  finishedOn: epochMs.nullable(),
  data: z.object({ imageId: z.string().optional(), source: z.string().optional(), batchId: z.string().optional() }),
});

export const queueFailures = z.object({
  queue: z.string(),
  failed: count,
  scanned: count,
  groups: z.array(z.object({ code: z.string(), count, sampleJobId: z.string(), retryable: z.boolean(), summary: z.string(), sample: failureSample.nullable() })),
});

export const recentResult = z.object({
  imageId: z.string(),
  source: z.string(),
  width: count.nullable(),
  height: count.nullable(),
  faceCount: count,
  faces: z.array(itemFace.extend({ index: count, confidence: z.number() })),
  rejected: z.array(itemRejected),
  galleryVersion: count.nullable(),
  processedAt: z.string(),
});

export const dashboardSession = z
  .object({
    who: z.enum(['token', 'key', 'open']).describe('Signed in with FACEPIPE_API_TOKEN, an API key, or no token is set'),
    keyId: z.string().nullable(),
    keyName: z.string().nullable(),
    scopes: z.array(z.enum(['upload', 'read', 'people', 'admin'])).describe('What this sign-in may do (the token and `admin` may do everything)'),
  })
  .meta({ example: { who: 'key', keyId: 'k_1a2b3c4d', keyName: 'viewer', scopes: ['read'] } });

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const agree = <T extends true>(): T | undefined => undefined;
agree<Same<z.output<typeof overview>, Dashboard.Overview>>();
agree<Same<z.output<typeof batchDetail>, Dashboard.BatchDetail>>();
agree<Same<z.output<typeof batchItems>, Dashboard.BatchItems>>();
agree<Same<z.output<typeof queueFailures>, Dashboard.QueueFailures>>();
agree<Same<z.output<typeof recentResult>, Dashboard.RecentResult>>();
agree<Same<z.output<typeof cluster>, Dashboard.Cluster>>();
agree<Same<z.output<typeof libraryPerson>, Dashboard.LibraryPerson>>();
agree<Same<z.output<typeof people>, Dashboard.People>>();
agree<Same<z.output<typeof personFaces>, Dashboard.PersonFaces>>();
agree<Same<z.output<typeof clusterFaces>, Dashboard.ClusterFaces>>();
agree<Same<z.output<typeof clusterNamePreview>, Dashboard.ClusterNamePreview>>();
agree<Same<z.output<typeof peopleAuditEntry>, Dashboard.PeopleAuditEntry>>();
agree<Same<z.output<typeof dashboardSession>, Dashboard.DashboardSession>>();
