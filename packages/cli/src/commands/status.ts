import { parseArgs } from 'node:util';
import { allQueueNames } from '@facepipe/core';
import { dataDirOption, dataDirUsage, withProducer } from './deployment.js';
import type { Command } from './command.js';
import { plural } from '../ui/progress.js';
import { queueTable } from '../ui/queue-table.js';

export const statusCommand: Command = {
  name: 'status',
  summary: 'queues and batches of a running deployment, or one batch',
  usage: `facepipe status [batchId] [--json]

Options:
${dataDirUsage}`,
  async run(argv) {
    const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { ...dataDirOption, json: { type: 'boolean', default: false } } });
    return withProducer('status', async (producer) => {
      if (positionals[0]) {
        const batch = await producer.getBatch(positionals[0]);
        if (!batch) {
          process.stderr.write(`no batch ${positionals[0]}\n`);
          return 1;
        }
        const finished = batch.done + batch.failed;
        process.stdout.write(
          values.json
            ? `${JSON.stringify(batch)}\n`
            : `batch ${batch.id} (${batch.purpose}, ${batch.source}): ${finished}/${batch.total}${batch.ingested ? '' : '+'} finished, ${batch.done} done, ${batch.failed} failed, ${plural(batch.faces, 'face')}${batch.finishedAt ? ', complete' : ''}\n` +
                Object.entries(batch.errors).map(([c, n]) => `  ${c}: ${n}\n`).join('') +
                ((await producer.intake.cutShort([batch])).length > 0 ? `  ${cutShortNote(batch)}\n` : ''),
        );
        return 0;
      }
      const queues = await Promise.all(
        allQueueNames.map(async (name) => {
          const q = producer.ctx.queues.byName(name);
          const [counts, workers, paused] = await Promise.all([q.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed', 'prioritized'), q.getWorkersCount(), q.isPaused()]);
          return { name, waiting: counts.waiting ?? 0, prioritized: counts.prioritized ?? 0, active: counts.active ?? 0, delayed: counts.delayed ?? 0, failed: counts.failed ?? 0, workers, paused };
        }),
      );
      const batches = await producer.ctx.tracker.listBatches(10);
      if (values.json) {
        process.stdout.write(`${JSON.stringify({ queues, batches })}\n`);
        return 0;
      }
      process.stdout.write(queueTable(queues));
      const cutShort = new Set((await producer.intake.cutShort(batches)).map((b) => b.id));
      for (const b of batches) {
        process.stdout.write(`batch ${b.id} ${b.purpose} ${b.done + b.failed}/${b.total} finished, ${b.failed} failed, ${plural(b.faces, 'face')}  ${b.source}\n`);
        if (cutShort.has(b.id)) process.stdout.write(`  ${cutShortNote(b)}\n`);
      }
      return 0;
    }, { dataDir: values['data-dir'] });
  },
};

/** What to say of a batch whose admission was cut short, with the command that finishes it. */
export function cutShortNote(b: { id: string; purpose: string; source: string }): string {
  const finish = b.purpose === 'reindex' ? `run the re-index again (facepipe ${b.source})` : `facepipe ingest ${shellQuote(b.source)} --resume ${b.id}`;
  return `not every input was admitted (the ingest was cut short); finish it with: ${finish}`;
}

function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
