import type { DiskReading } from '../observability/disk-space.js';
import type { PipelineQueues } from '../queue/pipeline-queues.js';
import type { StageName } from '../queue/queue-names.js';

/** Waiting jobs per stage past which admission holds back. */
export type StageBounds = Record<StageName, number>;

/** The stages admission watches, in pipeline order. */
export const admissionStages: readonly StageName[] = ['detect', 'embed', 'classify'];

/** One stage's backlog against its bound. */
export interface StageBacklog {
  stage: StageName;
  waiting: number;
  bound: number;
}

/** What the gate sees now: each stage's backlog, and the stages holding admission back. */
export interface AdmissionState {
  stages: StageBacklog[];
  /** Stages whose waiting jobs reached their bound (empty: admission runs). */
  heldBackBy: StageName[];
  /** Data dirs under their "full" level (FACEPIPE_DISK_FULL_FREE_MB): admission waits too. */
  diskFull: DiskReading[];
}

/** What the gate reads the data dirs' free space from (a DiskSpaceMonitor). */
export interface DiskCheck {
  full(): Promise<DiskReading[]>;
}

export interface AdmissionGateOptions {
  /** Told when admission starts waiting (with why: stages, or `disk full <dir>`) and when it goes on (empty). */
  onHeld?: (reasons: string[]) => void;
  /**
   * The data dirs' free space: while one is full, nothing new enters, before any of it is
   * written. A write that fills the disk anyway is refused as STORAGE_FULL and retried.
   * @defaultValue undefined (only the writes' own STORAGE_FULL pauses admission)
   */
  disk?: DiskCheck;
}

/** The stages at or past their bound, from counts already read (the dashboard's and /metrics' view). */
export function heldBackBy(stages: readonly StageBacklog[]): StageName[] {
  return stages.filter((s) => s.waiting >= s.bound).map((s) => s.stage);
}

/**
 * Backpressure over the whole pipeline: new images enter only while every stage's waiting jobs
 * are under that stage's bound, so Redis holds at most about the sum of the bounds whichever
 * stage is slowest, and admission resumes by itself once the slow stage catches up. Admissions
 * of one process pass the gate one at a time (two lanes must not both see the same room).
 */
export class AdmissionGate {
  #turn: Promise<void> = Promise.resolve();

  constructor(
    readonly queues: Pick<PipelineQueues, 'byName'>,
    readonly bounds: StageBounds,
    readonly options: AdmissionGateOptions = {},
  ) {}

  /** Each stage's waiting jobs against its bound, and the full data dirs. */
  async state(): Promise<AdmissionState> {
    const [stages, diskFull] = await Promise.all([
      Promise.all(admissionStages.map(async (stage) => ({ stage, waiting: await this.queues.byName(stage).getWaitingCount(), bound: this.bounds[stage] }))),
      this.#diskFull(),
    ]);
    return { stages, heldBackBy: heldBackBy(stages), diskFull };
  }

  /**
   * Resolves once no data dir is full (at once without a disk check): the entry of every
   * ingest item, so a full disk stops intake before an item is counted or stored.
   */
  untilDiskHasRoom(): Promise<void> {
    return this.#waitWhile(async () => diskReasons(await this.#diskFull()), 100, 2000);
  }

  #diskFull(): Promise<DiskReading[]> {
    return this.options.disk?.full() ?? Promise.resolve([]);
  }

  /**
   * Runs `add` (which puts `n` jobs into `into`) once they fit: `into` stays within its bound
   * (or is empty: one bulk always fits an empty queue) and every other stage is under its own.
   * Calls of one gate run one after another.
   */
  admit<T>(into: StageName, n: number, add: () => Promise<T>): Promise<T> {
    const run = this.#turn.then(async () => {
      await this.#waitForRoom(into, n);
      return add();
    });
    this.#turn = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  #waitForRoom(into: StageName, n: number): Promise<void> {
    return this.#waitWhile(async () => {
      const { stages, diskFull } = await this.state();
      const full = stages.filter((s) => (s.stage === into ? s.waiting > 0 && s.waiting + n > s.bound : s.waiting >= s.bound)).map((s) => s.stage);
      return [...full, ...diskReasons(diskFull)];
    }, 20, 500);
  }

  /**
   * Polls `blocking` (backing off from `delayMs` to `maxDelayMs`) until it names no reason to wait;
   * tells onHeld when the reasons change and, with none, when admission goes on.
   */
  async #waitWhile(blocking: () => Promise<string[]>, delayMs: number, maxDelayMs: number): Promise<void> {
    let delay = delayMs;
    let held: string[] = [];
    for (;;) {
      const reasons = await blocking();
      if (reasons.length === 0) {
        if (held.length > 0) this.options.onHeld?.([]);
        return;
      }
      if (reasons.join() !== held.join()) this.options.onHeld?.(reasons);
      held = reasons;
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, maxDelayMs);
    }
  }
}

const diskReasons = (full: readonly DiskReading[]) => full.map((d) => `disk full ${d.path}`);
