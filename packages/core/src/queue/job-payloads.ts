import { z } from 'zod';
import { FacepipeError } from '../errors/index.js';
import { batchIdPattern, imageIdPattern } from '../storage/keys.js';
import { JobName } from './queue-names.js';

const versionPattern = /^[0-9a-f]{12}$/;

/** What every image job carries: ids and keys, never bytes. */
export const imageJobSchema = z.object({
  imageId: z.string().regex(imageIdPattern),
  /** Where the original bytes are stored. */
  originalKey: z.string().min(1).max(1024),
  /** Where the image came from (a path relative to the ingested folder, an s3:// URL, an upload name). */
  source: z.string().max(4096),
  /** The batch that queued it (for logs; completion is recorded for every batch waiting on the image). */
  batchId: z.string().regex(batchIdPattern),
  /** Milliseconds since epoch when the image entered the pipeline (for end-to-end latency). */
  enqueuedAt: z.number().int().nonnegative(),
  /** The versions the producer expects results for (see pipelineVersions in @facepipe/vision). */
  pipelineVersion: z.string().regex(versionPattern),
});
export type ImageJobData = z.infer<typeof imageJobSchema>;

export const detectJobSchema = imageJobSchema;
export type DetectJobData = ImageJobData;

export const embedJobSchema = imageJobSchema.extend({
  detectVersion: z.string().regex(versionPattern),
  faceCount: z.number().int().positive(),
});
export type EmbedJobData = z.infer<typeof embedJobSchema>;

export const classifyJobSchema = imageJobSchema.extend({
  detectVersion: z.string().regex(versionPattern),
  /** null when the image has no faces (nothing was embedded). */
  embedVersion: z.string().regex(versionPattern).nullable(),
  faceCount: z.number().int().nonnegative(),
  /**
   * The embed stage wrote the chips' display rendition (chips-view.webp): the result's crops
   * point at it and classify deletes the exact chips with the other intermediates. Absent from
   * jobs of earlier embed workers and from re-classifications (the chips stay as they are).
   */
  chipsView: z.literal(true).optional(),
});
export type ClassifyJobData = z.infer<typeof classifyJobSchema>;

/** Gallery builds: after an enrollment batch, or on request (e.g. after re-embedding). */
export const galleryBuildJobSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('enroll'), batchId: z.string().regex(batchIdPattern) }),
  z.object({ kind: z.literal('rebuild'), reason: z.string().max(200) }),
]);
export type GalleryBuildJobData = z.infer<typeof galleryBuildJobSchema>;

/** What a re-index selects (see the producer's Reindexer). */
export const reindexKinds = ['classify', 'stale'] as const;
export type ReindexKind = (typeof reindexKinds)[number];

/** What a schedule runs: a re-index, or the retention rule (FACEPIPE_RETENTION_STRANGER_DAYS). */
export const scheduleKinds = [...reindexKinds, 'retention'] as const;
export type ScheduleKind = (typeof scheduleKinds)[number];

/** A run made by a job scheduler (`facepipe schedules`). */
export const scheduledReindexJobSchema = z.object({ kind: z.enum(scheduleKinds) });
export type ScheduledReindexJobData = z.infer<typeof scheduledReindexJobSchema>;

/** One webhook delivery: the event (as it is sent) for one registered webhook. */
export const webhookDeliveryJobSchema = z.object({
  webhookId: z.string().regex(/^wh_[0-9a-f]{16}$/),
  event: z.object({ id: z.string(), type: z.enum(['batch.finished', 'image.failed']), createdAt: z.number().int(), data: z.record(z.string(), z.unknown()) }),
});
export type WebhookDeliveryJobData = z.infer<typeof webhookDeliveryJobSchema>;

/** Job name → payload schema: a job name can't be queued or handled with the wrong payload. */
export const jobSchemas = {
  [JobName.DetectImage]: detectJobSchema,
  [JobName.EmbedFaces]: embedJobSchema,
  [JobName.ClassifyFaces]: classifyJobSchema,
  [JobName.GalleryBuild]: galleryBuildJobSchema,
  [JobName.ScheduledReindex]: scheduledReindexJobSchema,
  [JobName.WebhookDelivery]: webhookDeliveryJobSchema,
} as const satisfies Record<JobName, z.ZodType>;

export type JobData<N extends JobName> = z.infer<(typeof jobSchemas)[N]>;

/**
 * Checks a payload read from Redis (it may be older or foreign) against its job's schema.
 * Throws a permanent INVALID_PAYLOAD error naming each bad field.
 */
export function parseJobData<N extends JobName>(name: N, data: unknown): JobData<N> {
  const schema = jobSchemas[name] as unknown as z.ZodType<JobData<N>>;
  const parsed = schema.safeParse(data);
  if (parsed.success) return parsed.data;
  const fields = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
  throw new FacepipeError('INVALID_PAYLOAD', `job ${name}: ${fields}`);
}
