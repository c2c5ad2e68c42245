import { parseArgs } from 'node:util';
import { parseDuration, reindexKinds, ReindexSchedules, type ScheduleInfo, type ScheduledReindexKind } from '@facepipe/core';
import { dataDirOption, dataDirUsage, withProducer } from './deployment.js';
import { UsageError, type Command } from './command.js';

export const schedulesCommand: Command = {
  name: 'schedules',
  summary: 'scheduled re-index jobs: create, list, delete',
  usage: `facepipe schedules create <id> <${reindexKinds.join('|')}> (--every <duration> | --cron "<pattern>" [--tz <zone>]) [--run-now]
facepipe schedules list [--json]
facepipe schedules delete <id>

A schedule queues \`facepipe reindex <kind>\` as a batch at each tick (BullMQ job schedulers; the
\`facepipe serve\` process runs them, one at a time). Durations: 90s, 15m, 6h, 1d (at least 1m).
The first run is one interval after creation (--every) or at the pattern's next match (--cron);
--run-now also runs it once right away. Creating a schedule with an existing id replaces it.

Options:
${dataDirUsage}`,
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { ...dataDirOption, every: { type: 'string' }, cron: { type: 'string' }, tz: { type: 'string' }, 'run-now': { type: 'boolean', default: false }, json: { type: 'boolean', default: false } },
    });
    const [action, id, kind] = positionals;
    if (action === 'create') {
      if (!id || !kind || positionals.length !== 3) throw new UsageError('facepipe schedules create needs an id and a kind');
      if (!reindexKinds.includes(kind as ScheduledReindexKind)) throw new UsageError(`the kind must be one of ${reindexKinds.join(', ')}`);
      if ((values.every === undefined) === (values.cron === undefined)) throw new UsageError('give --every <duration> or --cron "<pattern>"');
      const everyMs = values.every === undefined ? undefined : parseDuration(values.every);
      if (values.every !== undefined && everyMs === undefined) throw new UsageError(`--every "${values.every}" is not a duration (90s, 15m, 6h, 1d)`);
      return withProducer('schedules', async (producer) => {
        const info = await new ReindexSchedules(producer.ctx.queues).upsert({ id, kind: kind as ScheduledReindexKind, everyMs, cron: values.cron, tz: values.tz, runNow: values['run-now'] });
        process.stdout.write(values.json ? `${JSON.stringify(info)}\n` : `${describe(info)}\n`);
        return 0;
      }, { dataDir: values['data-dir'] });
    }
    if (action === 'list') {
      if (positionals.length !== 1) throw new UsageError('facepipe schedules list takes no arguments');
      return withProducer('schedules', async (producer) => {
        const all = await new ReindexSchedules(producer.ctx.queues).list();
        if (values.json) for (const info of all) process.stdout.write(`${JSON.stringify(info)}\n`);
        else if (all.length === 0) process.stdout.write('no schedules\n');
        else for (const info of all) process.stdout.write(`${describe(info)}\n`);
        return 0;
      }, { dataDir: values['data-dir'] });
    }
    if (action === 'delete') {
      if (!id || positionals.length !== 2) throw new UsageError('facepipe schedules delete needs the id');
      return withProducer('schedules', async (producer) => {
        const removed = await new ReindexSchedules(producer.ctx.queues).remove(id);
        process.stdout.write(removed ? `schedule ${id} deleted\n` : `no schedule ${id}\n`);
        return removed ? 0 : 1;
      }, { dataDir: values['data-dir'] });
    }
    throw new UsageError('facepipe schedules needs create, list or delete');
  },
};

function describe(info: ScheduleInfo): string {
  const when = info.everyMs !== null ? `every ${formatMs(info.everyMs)}` : `cron "${info.cron}"${info.tz ? ` (${info.tz})` : ''}`;
  const next = info.nextRunAt ? `, next run ${new Date(info.nextRunAt).toISOString()}` : '';
  return `${info.id}: reindex ${info.kind} ${when}${next}`;
}

function formatMs(ms: number): string {
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) if (ms % size === 0) return `${ms / size}${unit}`;
  return `${ms}ms`;
}
