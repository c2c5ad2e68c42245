import type { Queue } from 'bullmq';
import { FacepipeError } from '../errors/index.js';
import { JobName } from './queue-names.js';
import type { PipelineQueues } from './pipeline-queues.js';
import { reindexKinds, type ReindexKind, type ScheduledReindexJobData } from './job-payloads.js';

/** Schedule ids: short, URL- and Redis-key-safe. */
export const scheduleIdPattern = /^[a-z0-9][a-z0-9_-]{0,62}$/;

/** The shortest interval a schedule may repeat at (a re-index of a large library takes a while). */
export const minScheduleIntervalMs = 60_000;

export interface ScheduleInfo {
  id: string;
  kind: ReindexKind;
  /** Repeat interval in ms, or null for a cron pattern. */
  everyMs: number | null;
  /** Cron pattern (with seconds optional, BullMQ's parser), or null for an interval. */
  cron: string | null;
  /** Time zone of the cron pattern. */
  tz: string | null;
  /** When the next run is due (ms since epoch), if known. */
  nextRunAt: number | null;
}

export interface ScheduleRequest {
  id: string;
  kind: ReindexKind;
  everyMs?: number;
  cron?: string;
  tz?: string;
  /**
   * Run once as soon as the schedule is stored, then on schedule. Otherwise the first run is one
   * interval after creation (`everyMs`) or at the pattern's next match (`cron`): a schedule is
   * not a way to start a full re-index by accident. @defaultValue false
   */
  runNow?: boolean;
}

/**
 * Scheduled re-index jobs, as BullMQ job schedulers on the maintenance queue: created (or
 * replaced, by id), listed with their next run time, and removed. Each tick adds one job, run by
 * one `facepipe serve` process (whichever takes it), which queues the re-index as a batch.
 */
export class ReindexSchedules {
  readonly queue: Queue;
  readonly #queues: Pick<PipelineQueues, 'maintenance' | 'jobOptions'>;

  /** On the maintenance queue; each tick's job gets the retries every facepipe job has. */
  constructor(queues: Pick<PipelineQueues, 'maintenance' | 'jobOptions'>) {
    this.#queues = queues;
    this.queue = queues.maintenance;
  }

  /** Creates or replaces a schedule; a bad id, interval or cron pattern is INVALID_PAYLOAD. */
  async upsert(request: ScheduleRequest): Promise<ScheduleInfo> {
    const problems = scheduleProblems(request);
    if (problems.length > 0) throw new FacepipeError('INVALID_PAYLOAD', problems.join('; '));
    // BullMQ runs an interval scheduler's first job at once unless given a later start.
    const repeat =
      request.everyMs !== undefined
        ? { every: request.everyMs, ...(request.runNow ? {} : { startDate: Date.now() + request.everyMs }) }
        : { pattern: request.cron!, ...(request.tz ? { tz: request.tz } : {}), ...(request.runNow ? { immediately: true } : {}) };
    try {
      await this.queue.upsertJobScheduler(request.id, repeat, {
        name: JobName.ScheduledReindex,
        data: { kind: request.kind } satisfies ScheduledReindexJobData,
        opts: this.#queues.jobOptions(),
      });
    } catch (err) {
      if (request.cron !== undefined) throw new FacepipeError('INVALID_PAYLOAD', `cron pattern "${request.cron}": ${(err as Error).message}`, { cause: err });
      throw err;
    }
    const info = await this.get(request.id);
    if (!info) throw new FacepipeError('INTERNAL', `schedule ${request.id} was not stored`);
    return info;
  }

  async get(id: string): Promise<ScheduleInfo | undefined> {
    const json = await this.queue.getJobScheduler(id);
    return json ? toInfo(json) : undefined;
  }

  /** Every schedule, by next run time. */
  async list(): Promise<ScheduleInfo[]> {
    const all = await this.queue.getJobSchedulers(0, -1, true);
    return all.map(toInfo);
  }

  /** Removes a schedule; false when there was none with this id. */
  remove(id: string): Promise<boolean> {
    return this.queue.removeJobScheduler(id);
  }
}

/** What is wrong with a schedule request (empty when it is valid). */
export function scheduleProblems(request: Partial<ScheduleRequest>): string[] {
  const problems: string[] = [];
  if (typeof request.id !== 'string' || !scheduleIdPattern.test(request.id)) problems.push('id: 1–63 lowercase letters, digits, - or _, starting with a letter or digit');
  if (!reindexKinds.includes(request.kind as ReindexKind)) problems.push(`kind: one of ${reindexKinds.join(', ')}`);
  const hasEvery = request.everyMs !== undefined;
  const hasCron = request.cron !== undefined;
  if (hasEvery === hasCron) problems.push('give exactly one of an interval (every) or a cron pattern');
  if (hasEvery && (!Number.isInteger(request.everyMs) || request.everyMs! < minScheduleIntervalMs)) problems.push(`every: a whole number of ms, at least ${minScheduleIntervalMs}`);
  if (hasCron && (typeof request.cron !== 'string' || request.cron.trim().split(/\s+/).length < 5)) problems.push('cron: a pattern of 5 or 6 fields, e.g. "0 3 * * *"');
  if (request.runNow !== undefined && typeof request.runNow !== 'boolean') problems.push('runNow: true or false');
  return problems;
}

function toInfo(json: { key: string; id?: string | null; every?: number; pattern?: string; tz?: string; next?: number; template?: { data?: unknown } }): ScheduleInfo {
  const data = json.template?.data as Partial<ScheduledReindexJobData> | undefined;
  return {
    id: json.id ?? json.key,
    kind: data?.kind ?? 'stale',
    everyMs: json.every ?? null,
    cron: json.pattern ?? null,
    tz: json.tz ?? null,
    nextRunAt: json.next ?? null,
  };
}

/** Parses "90s", "15m", "6h", "1d" (or plain milliseconds) into ms; undefined when it does not parse. */
export function parseDuration(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?$/.exec(text.trim());
  if (!match) return undefined;
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[(match[2] ?? 'ms') as 'ms'];
  return Math.round(Number(match[1]) * unit);
}
