import type { EnrollmentReport, Logger, PipelineQueues } from '@facepipe/core';
import type { Producer } from '@facepipe/producer';

/**
 * Enrollments started over HTTP: each waits until its batch is processed, then queues the
 * gallery build and waits for it. They run in the background, so a client that stops waiting
 * (or asked not to) still gets its people enrolled; `close()` gives them time to finish.
 */
export class Enrollments {
  readonly #running = new Map<string, Promise<EnrollmentReport>>();

  constructor(
    readonly producer: Producer,
    /** The queues an enrollment goes through (detect, embed, classify, gallery). */
    readonly queues: Pick<PipelineQueues, 'detect' | 'embed' | 'classify' | 'gallery'>,
    readonly log: Logger,
    /** Longest wait for the photos to be processed. @defaultValue 600000 */
    readonly timeoutMs = 600_000,
  ) {}

  /** Starts (or joins) the enrollment of a closed enroll batch. */
  start(batchId: string): Promise<EnrollmentReport> {
    let running = this.#running.get(batchId);
    if (!running) {
      running = this.#run(batchId).finally(() => this.#running.delete(batchId));
      running.catch((err: unknown) => this.log.warn('enrollment failed', { batchId, err }));
      this.#running.set(batchId, running);
    }
    return running;
  }

  async #run(batchId: string): Promise<EnrollmentReport> {
    const deadline = Date.now() + this.timeoutMs;
    for (;;) {
      const batch = await this.producer.getBatch(batchId);
      if (!batch) throw new Error(`batch ${batchId} does not exist`);
      if (batch.finishedAt !== undefined) break;
      if (Date.now() > deadline) throw new Error(`batch ${batchId} was not processed within ${this.timeoutMs / 1000}s`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const report = await this.producer.completeEnrollment(batchId, Math.max(deadline - Date.now(), 60_000));
    this.log.info('enrolled over HTTP', { batchId, galleryVersion: report.galleryVersion, enrolled: report.items.filter((i) => i.status === 'enrolled').length });
    return report;
  }

  /** Whether a queue an enrollment goes through is paused (it would not finish while the client waits). */
  async pipelinePaused(): Promise<boolean> {
    const { detect, embed, classify, gallery } = this.queues;
    const paused = await Promise.all([detect, embed, classify, gallery].map((q) => q.isPaused()));
    return paused.some(Boolean);
  }

  /** Waits up to `graceMs` for running enrollments. */
  async close(graceMs = 10_000): Promise<void> {
    if (this.#running.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.allSettled([...this.#running.values()]), new Promise((r) => (timer = setTimeout(r, graceMs)))]);
    clearTimeout(timer);
  }
}
