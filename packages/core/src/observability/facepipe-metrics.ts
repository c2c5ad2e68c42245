import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Queue } from 'bullmq';

/** The job states exported as `facepipe_queue_jobs{queue,state}` (BullMQ's own counters). */
export const queueStates = ['waiting', 'prioritized', 'active', 'delayed', 'completed', 'failed', 'waiting-children'] as const;

/** Seconds: from a 5 ms cache hit to a minute-long decode of a huge photo. */
const durationBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
/** Faces per embedding micro-batch. */
const batchSizeBuckets = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024];

/** What {@link StageWorker} reports about each job attempt. */
export type JobOutcome =
  | { ok: true; /** Images the job handled (1 for image stages, 0 otherwise). */ images: number; /** Faces in the job's result, when it says. */ faces?: number }
  | { ok: false; code: string; /** No more attempts: the job is in the failed set. */ final: boolean };

/** Each stage's backlog against its bound, and whether it holds admission back (see AdmissionGate). */
export interface AdmissionView {
  stages: { stage: string; waiting: number; bound: number }[];
  heldBackBy: string[];
}

/** The narrow view of the metrics a stage worker needs (keeps queue/ free of prom-client). */
export interface StageMetrics {
  recordJob(stage: string, ms: number, outcome: JobOutcome): void;
}

/**
 * Every Prometheus metric a facepipe process exports, in a registry of its own (one per
 * process, or per test). Names are listed in docs/service.md and charted by
 * deploy/grafana/facepipe-dashboard.json.
 */
export class FacepipeMetrics implements StageMetrics {
  readonly registry = new Registry();
  readonly jobsCompleted: Counter<'stage'>;
  readonly jobsFailed: Counter<'stage' | 'code' | 'final'>;
  readonly stageDuration: Histogram<'stage' | 'outcome'>;
  readonly inferenceDuration: Histogram<'step'>;
  readonly embedBatchSize: Histogram;
  readonly classifyBatchSize: Histogram;
  readonly classifyBatchDuration: Histogram;
  readonly imagesProcessed: Counter<'stage'>;
  readonly facesProcessed: Counter<'stage'>;
  readonly #queues = new Map<string, Queue>();
  #admission: (() => Promise<AdmissionView>) | undefined;
  #processMetrics = false;

  constructor(readonly service: string) {
    const registers = [this.registry];
    this.registry.setDefaultLabels({ service });
    this.jobsCompleted = new Counter({ name: 'facepipe_jobs_completed_total', help: 'Jobs finished successfully, by stage', labelNames: ['stage'], registers });
    this.jobsFailed = new Counter({
      name: 'facepipe_jobs_failed_total',
      help: 'Job attempts that failed, by stage and error code; final="true" when no retry is left',
      labelNames: ['stage', 'code', 'final'],
      registers,
    });
    this.stageDuration = new Histogram({
      name: 'facepipe_stage_duration_seconds',
      help: 'Time a stage handler spent on one job attempt',
      labelNames: ['stage', 'outcome'],
      buckets: durationBuckets,
      registers,
    });
    this.inferenceDuration = new Histogram({
      name: 'facepipe_inference_duration_seconds',
      help: 'Vision work per image (decode, detect, landmarks, align) and per embedding batch (embed)',
      labelNames: ['step'],
      buckets: durationBuckets,
      registers,
    });
    this.embedBatchSize = new Histogram({ name: 'facepipe_embed_batch_size', help: 'Faces per embedding micro-batch', buckets: batchSizeBuckets, registers });
    this.classifyBatchSize = new Histogram({ name: 'facepipe_classify_batch_size', help: 'Images per classify micro-batch (one face-index transaction)', buckets: batchSizeBuckets, registers });
    this.classifyBatchDuration = new Histogram({ name: 'facepipe_classify_batch_duration_seconds', help: 'Time one classify micro-batch took: inputs, face-index transaction, result documents', buckets: durationBuckets, registers });
    this.imagesProcessed = new Counter({ name: 'facepipe_images_processed_total', help: 'Images a stage finished', labelNames: ['stage'], registers });
    this.facesProcessed = new Counter({ name: 'facepipe_faces_processed_total', help: 'Faces in the images a stage finished', labelNames: ['stage'], registers });
    const queues = this.#queues;
    const timeoutMs = 2000;
    new Gauge({
      name: 'facepipe_queue_jobs',
      help: "Jobs per queue and state (BullMQ's counters, read at scrape time)",
      labelNames: ['queue', 'state'],
      registers,
      async collect() {
        this.reset();
        await Promise.all(
          [...queues.entries()].map(async ([name, queue]) => {
            const counts = await withTimeout(queue.getJobCounts(...queueStates), timeoutMs).catch(() => undefined);
            if (!counts) return;
            for (const state of queueStates) this.set({ queue: name, state }, counts[state] ?? 0);
          }),
        );
      },
    });
    new Gauge({
      name: 'facepipe_queue_workers',
      help: 'Worker connections per queue (every process sees every worker)',
      labelNames: ['queue'],
      registers,
      async collect() {
        this.reset();
        await Promise.all(
          [...queues.entries()].map(async ([name, queue]) => {
            const count = await withTimeout(queue.getWorkersCount(), timeoutMs).catch(() => undefined);
            if (count !== undefined) this.set({ queue: name }, count);
          }),
        );
      },
    });
  }

  /** Exports admission's per-stage bounds and which stages hold it back, read on each scrape. */
  watchAdmission(read: () => Promise<AdmissionView>): void {
    const first = this.#admission === undefined;
    this.#admission = read;
    if (!first) return;
    const admission = () => this.#admission;
    const registers = [this.registry];
    const view = async (): Promise<AdmissionView | undefined> => {
      const read = admission();
      return read ? withTimeout(read(), 2000).catch(() => undefined) : undefined;
    };
    new Gauge({
      name: 'facepipe_admission_held_back',
      help: 'Whether this stage holds admission back now (1: its waiting jobs reached facepipe_admission_bound)',
      labelNames: ['stage'],
      registers,
      async collect() {
        this.reset();
        const v = await view();
        for (const s of v?.stages ?? []) this.set({ stage: s.stage }, v!.heldBackBy.includes(s.stage) ? 1 : 0);
      },
    });
    new Gauge({
      name: 'facepipe_admission_bound',
      help: 'Waiting jobs per stage at which admission (ingest, uploads, re-index) holds back',
      labelNames: ['stage'],
      registers,
      async collect() {
        this.reset();
        for (const s of (await view())?.stages ?? []) this.set({ stage: s.stage }, s.bound);
      },
    });
  }

  /** Adds Node's process metrics (CPU, memory, event-loop lag, GC); once per registry. */
  enableProcessMetrics(): void {
    if (this.#processMetrics) return;
    this.#processMetrics = true;
    collectDefaultMetrics({ register: this.registry });
  }

  /** Exports depth gauges for these queues, read from Redis on each scrape. */
  watchQueues(queues: Iterable<Queue>): void {
    for (const queue of queues) this.#queues.set(queue.name, queue);
  }

  recordJob(stage: string, ms: number, outcome: JobOutcome): void {
    const seconds = ms / 1000;
    if (outcome.ok) {
      this.jobsCompleted.inc({ stage });
      this.stageDuration.observe({ stage, outcome: 'completed' }, seconds);
      if (outcome.images > 0) this.imagesProcessed.inc({ stage }, outcome.images);
      if (outcome.faces !== undefined && outcome.faces > 0) this.facesProcessed.inc({ stage }, outcome.faces);
    } else {
      this.jobsFailed.inc({ stage, code: outcome.code, final: String(outcome.final) });
      this.stageDuration.observe({ stage, outcome: 'failed' }, seconds);
    }
  }

  /** One vision step's time (decode, detect, landmarks, align, embed). */
  recordInference(step: string, ms: number): void {
    this.inferenceDuration.observe({ step }, ms / 1000);
  }

  /** One embedding micro-batch: its size, and its run time as the `embed` inference step. */
  recordEmbedBatch(size: number, ms: number): void {
    this.embedBatchSize.observe(size);
    this.recordInference('embed', ms);
  }

  /** One classify micro-batch: its images and its time. */
  recordClassifyBatch(size: number, ms: number): void {
    this.classifyBatchSize.observe(size);
    this.classifyBatchDuration.observe(ms / 1000);
  }

  /** The exposition text and its content type. */
  async scrape(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    timer.unref();
    promise.then(
      (v) => (clearTimeout(timer), resolve(v)),
      (e: unknown) => (clearTimeout(timer), reject(e instanceof Error ? e : new Error(String(e)))),
    );
  });
}
