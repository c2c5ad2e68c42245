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
    /** Told when admission starts waiting (with the stages) and when it goes on (empty). */
    readonly onHeld?: (stages: StageName[]) => void,
  ) {}

  /** Each stage's waiting jobs against its bound. */
  async state(): Promise<AdmissionState> {
    const stages = await Promise.all(admissionStages.map(async (stage) => ({ stage, waiting: await this.queues.byName(stage).getWaitingCount(), bound: this.bounds[stage] })));
    return { stages, heldBackBy: heldBackBy(stages) };
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

  async #waitForRoom(into: StageName, n: number): Promise<void> {
    let delay = 20;
    let held: StageName[] = [];
    for (;;) {
      const { stages } = await this.state();
      const blocking = stages.filter((s) => (s.stage === into ? s.waiting > 0 && s.waiting + n > s.bound : s.waiting >= s.bound)).map((s) => s.stage);
      if (blocking.length === 0) {
        if (held.length > 0) this.onHeld?.([]);
        return;
      }
      if (blocking.join() !== held.join()) this.onHeld?.(blocking);
      held = blocking;
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 500);
    }
  }
}
