/** The pipeline's stages, in order. */
export const stageNames = ['detect', 'embed', 'classify'] as const;
export type StageName = (typeof stageNames)[number];

/** Every BullMQ queue facepipe uses. Queue names never contain ':' (BullMQ forbids it). */
export const QueueName = {
  Detect: 'detect',
  Embed: 'embed',
  Classify: 'classify',
  /** Gallery builds (enrollment, rebuilds); one at a time across all workers. */
  Gallery: 'gallery',
  /** Scheduled maintenance (re-index jobs made by job schedulers); run by `facepipe serve`. */
  Maintenance: 'maintenance',
  /** Webhook deliveries (batch finished, image failed), retried with backoff; run by `facepipe serve`. */
  Webhooks: 'webhooks',
} as const;
export type QueueName = (typeof QueueName)[keyof typeof QueueName];
export const allQueueNames: readonly QueueName[] = Object.values(QueueName);

/** Job names, one per queue, and the payload type each carries (see job-payloads.ts). */
export const JobName = {
  DetectImage: 'detect-image',
  EmbedFaces: 'embed-faces',
  ClassifyFaces: 'classify-faces',
  GalleryBuild: 'gallery-build',
  ScheduledReindex: 'scheduled-reindex',
  WebhookDelivery: 'webhook-delivery',
} as const;
export type JobName = (typeof JobName)[keyof typeof JobName];
