import { isErrorCode, jobIds, objectKeys, stageNames, type BatchTracker, type ErrorRecord, type ObjectStore, type PipelineQueues, type ResultDocument, type StageName } from '@facepipe/core';

/** What `GET /v1/images/:id` answers. */
export interface ImageStatus {
  imageId: string;
  /**
   * queued: waiting for its first stage; processing: in `stage`; done: `result` holds the
   * result document; failed: `error` says why (and at which stage).
   */
  status: 'queued' | 'processing' | 'done' | 'failed';
  stage?: StageName;
  /** The BullMQ state of the job in `stage` (waiting, active, delayed…). */
  jobState?: string;
  error?: ErrorRecord & { stage?: string };
  /** Whether the result was made with the pipeline version this deployment runs now. */
  current?: boolean;
  result?: ResultDocument;
}

/** Where an image's status is read from. */
export interface ImageStatusSources {
  queues: Pick<PipelineQueues, 'byName'>;
  tracker: BatchTracker;
  store: ObjectStore;
  /** The pipeline version this deployment runs (jobs' ids carry it). */
  pipelineVersion: string;
}

const pendingStates = new Set(['waiting', 'prioritized', 'active', 'delayed', 'waiting-children']);

/**
 * An image's status from what the deployment knows: a pending job in some stage (its
 * deterministic id under the current pipeline version), the tracker's memory of the image
 * (queued, then done/failed for FACEPIPE_REMEMBER_DONE_S/_FAILED_S), and the result document in S3. Undefined when nothing
 * is known about the id.
 */
export async function imageStatus(sources: ImageStatusSources, imageId: string): Promise<ImageStatus | undefined> {
  const { queues, tracker, store, pipelineVersion: version } = sources;
  const [jobStates, state, result] = await Promise.all([
    Promise.all(stageNames.map(async (stage) => [stage, await queues.byName(stage).getJobState(jobIds[stage](imageId, version))] as const)),
    tracker.imageState(imageId),
    store.getJson<ResultDocument>(objectKeys.result(imageId)),
  ]);
  // The latest stage with a pending job is where the image is (a retry from the dashboard
  // shows here before the tracker learns the outcome).
  const pending = [...jobStates].reverse().find(([, s]) => pendingStates.has(s));
  if (pending) {
    const [stage, jobState] = pending;
    const waiting = stage === 'detect' && jobState !== 'active';
    return { imageId, status: waiting ? 'queued' : 'processing', stage, jobState };
  }
  const current = result ? result.versions.pipeline === version : undefined;
  if (result && (state === undefined || state.state !== 'queued')) {
    if (result.status === 'done') return { imageId, status: 'done', current, result };
    return { imageId, status: 'failed', error: result.error ?? { code: 'INTERNAL', message: 'processing failed' }, current, result };
  }
  if (state?.state === 'failed') return { imageId, status: 'failed', error: { code: isErrorCode(state.code) ? state.code : 'INTERNAL', message: 'processing failed', stage: state.failedQueue } };
  if (state?.state === 'queued') return { imageId, status: 'queued', stage: 'detect' };
  return undefined;
}
