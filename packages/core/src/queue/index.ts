export { stageNames, QueueName, JobName, allQueueNames, type StageName } from './queue-names.js';
export {
  imageJobSchema,
  detectJobSchema,
  embedJobSchema,
  classifyJobSchema,
  galleryBuildJobSchema,
  jobSchemas,
  parseJobData,
  type ImageJobData,
  type DetectJobData,
  type EmbedJobData,
  type ClassifyJobData,
  type GalleryBuildJobData,
  reindexKinds,
  scheduleKinds,
  scheduledReindexJobSchema,
  type ScheduleKind as ScheduledReindexKind,
  type ScheduledReindexJobData,
  webhookDeliveryJobSchema,
  type WebhookDeliveryJobData,
  type JobData,
} from './job-payloads.js';
export { createRedisConnection, closeRedis } from './redis-connection.js';
export { stageJobOptions, jobIds, retryBackoffType, type JobPolicy } from './job-options.js';
export { retryDelayMs, jitteredDelayMs, attemptsForWindow, defaultRetryPolicy, type RetryPolicy } from './retry-policy.js';
export { StageWorker, formatFailure, failureCode, type StageWorkerOptions, type StageContext } from './stage-worker.js';
export { PipelineQueues } from './pipeline-queues.js';
export { ReindexSchedules, scheduleProblems, parseDuration, scheduleIdPattern, minScheduleIntervalMs, type ScheduleInfo, type ScheduleRequest } from './reindex-schedules.js';
