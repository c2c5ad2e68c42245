import { Queue, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import type { ClassifyJobData, DetectJobData, EmbedJobData, GalleryBuildJobData } from './job-payloads.js';
import { jobIds, stageJobOptions, type JobPolicy } from './job-options.js';
import { JobName, QueueName, type StageName } from './queue-names.js';

/**
 * The queues, and the one place that says which stage follows which: detect → embed → classify,
 * with images without faces going straight from detect to classify.
 */
export class PipelineQueues {
  readonly detect: Queue;
  readonly embed: Queue;
  readonly classify: Queue;
  readonly gallery: Queue;
  readonly maintenance: Queue;
  readonly webhooks: Queue;
  readonly #policy: JobPolicy;
  #closing: Promise<void> | undefined;

  /**
   * `onError` hears connection errors (Redis down or restarting); without a listener BullMQ
   * prints each one with its stack.
   */
  constructor(connection: Redis, prefix: string, policy: JobPolicy, onError: (err: Error) => void = () => undefined) {
    const opts = { connection, prefix };
    this.detect = new Queue(QueueName.Detect, opts);
    this.embed = new Queue(QueueName.Embed, opts);
    this.classify = new Queue(QueueName.Classify, opts);
    this.gallery = new Queue(QueueName.Gallery, opts);
    this.maintenance = new Queue(QueueName.Maintenance, opts);
    this.webhooks = new Queue(QueueName.Webhooks, opts);
    this.#policy = policy;
    for (const queue of this.all) queue.on('error', onError);
  }

  byName(name: QueueName): Queue {
    return { detect: this.detect, embed: this.embed, classify: this.classify, gallery: this.gallery, maintenance: this.maintenance, webhooks: this.webhooks }[name];
  }

  get all(): Queue[] {
    return [this.detect, this.embed, this.classify, this.gallery, this.maintenance, this.webhooks];
  }

  /** The first stage: an image enters the pipeline. */
  async addDetect(data: DetectJobData): Promise<void> {
    await this.detect.add(JobName.DetectImage, data, stageJobOptions(this.#policy, jobIds.detect(data.imageId, data.pipelineVersion)));
  }

  /** Many images at once (one round trip), for bulk ingest. */
  async addDetectBulk(items: DetectJobData[]): Promise<void> {
    if (items.length === 0) return;
    await this.detect.addBulk(
      items.map((data) => ({
        name: JobName.DetectImage,
        data,
        opts: stageJobOptions(this.#policy, jobIds.detect(data.imageId, data.pipelineVersion)),
      })),
    );
  }

  /** After detection: faces go to the embedder; an image without faces goes straight to classify. */
  async afterDetect(data: DetectJobData, detectVersion: string, faceCount: number): Promise<void> {
    if (faceCount > 0) {
      const next: EmbedJobData = { ...data, detectVersion, faceCount };
      await this.embed.add(JobName.EmbedFaces, next, stageJobOptions(this.#policy, jobIds.embed(data.imageId, data.pipelineVersion)));
    } else {
      await this.#addClassify({ ...data, detectVersion, embedVersion: null, faceCount: 0 });
    }
  }

  /** After embedding: the faces are named. */
  async afterEmbed(data: EmbedJobData, embedVersion: string, written: { chipsView?: true } = {}): Promise<void> {
    await this.#addClassify({ ...data, embedVersion, ...written });
  }

  /** Re-classification of an already embedded image (a new gallery, a new tolerance). */
  async reclassify(data: ClassifyJobData, suffix: string): Promise<void> {
    await this.classify.add(JobName.ClassifyFaces, data, stageJobOptions(this.#policy, `${jobIds.classify(data.imageId, data.pipelineVersion)}_${suffix}`));
  }

  async #addClassify(data: ClassifyJobData): Promise<void> {
    await this.classify.add(JobName.ClassifyFaces, data, stageJobOptions(this.#policy, jobIds.classify(data.imageId, data.pipelineVersion)));
  }

  /** Retry and retention options for a job added to any of these queues (schedulers' jobs too). */
  jobOptions(jobId?: string): JobsOptions {
    return stageJobOptions(this.#policy, jobId);
  }

  /**
   * Queues a gallery build: enrollment of a finished batch (one job per batch, by id) or a
   * rebuild. Returns the job id, to wait on.
   */
  async addGalleryBuild(data: GalleryBuildJobData): Promise<string> {
    const jobId = data.kind === 'enroll' ? jobIds.galleryEnroll(data.batchId) : undefined;
    const job = await this.gallery.add(JobName.GalleryBuild, data, stageJobOptions(this.#policy, jobId));
    return job.id ?? '';
  }

  /**
   * Before an image is queued again after a failure (or with force), removes its finished jobs
   * so their deterministic ids are free. Active, waiting and delayed jobs are left alone.
   */
  async clearFinishedJobs(imageId: string, pipelineVersion: string): Promise<void> {
    const ids: [StageName, string][] = [
      ['detect', jobIds.detect(imageId, pipelineVersion)],
      ['embed', jobIds.embed(imageId, pipelineVersion)],
      ['classify', jobIds.classify(imageId, pipelineVersion)],
    ];
    await Promise.all(
      ids.map(async ([stage, id]) => {
        const queue = this.byName(stage);
        const state = await queue.getJobState(id);
        if (state === 'completed' || state === 'failed') await queue.remove(id);
      }),
    );
  }

  /** Closes every queue; safe to call more than once. */
  close(): Promise<void> {
    this.#closing ??= Promise.allSettled(this.all.map((q) => q.close())).then(() => undefined);
    return this.#closing;
  }
}
