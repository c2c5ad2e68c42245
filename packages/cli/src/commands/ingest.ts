import { parseArgs } from 'node:util';
import { describeInputSkips } from '@facepipe/core';
import { dataDirOption, dataDirUsage, withProducer } from './deployment.js';
import { UsageError, type Command } from './command.js';
import { plural, ProgressBar } from '../ui/progress.js';
import { onInterrupt } from '../ui/interrupt.js';
import { ExitCode } from '../errors/cli-failure.js';

export const ingestCommand: Command = {
  name: 'ingest',
  summary: 'queue a folder or s3://bucket/prefix as a batch on a running deployment',
  usage: `facepipe ingest <dir|s3://bucket/prefix> [--wait] [--force] [--all-files] [--resume <batchId>] [--json]

Stores each input under its content hash and queues what needs processing (REDIS_URL, S3_*).
Prints the batch id first; --wait follows the batch until it finishes, riding out Redis
restarts (it reconnects and keeps waiting).

When the last batch of the same input was cut short (the ingest was killed or lost Redis or S3
before every input was admitted), it is continued: only the inputs it does not list yet are
admitted, under the same batch id. --resume <batchId> names the batch to continue (it must be
of the same input); --force always starts a new batch.

Options:
${dataDirUsage}

Exit codes: 0 queued (or, with --wait, every input done), 5 with --wait: the batch finished but
some inputs failed (facepipe results <batchId> says why), 3 Redis or S3 unreachable,
4 the folder is missing or unreadable (no batch is created), 2 wrong usage.`,
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { ...dataDirOption, wait: { type: 'boolean', default: false }, force: { type: 'boolean', default: false }, 'all-files': { type: 'boolean', default: false }, resume: { type: 'string' }, json: { type: 'boolean', default: false } },
    });
    if (positionals.length !== 1) throw new UsageError('facepipe ingest needs one folder or s3:// prefix');
    return withProducer('ingest', async (producer) => {
      const bar = new ProgressBar('queueing');
      let batchId: string | undefined;
      let queued = 0;
      let following = false;
      // Ctrl-C: the batch lives in the deployment, not in this process. The first one ends the
      // progress line and says how to follow the batch; a second one exits at once.
      const interrupted = onInterrupt(() => {
        ProgressBar.endAll();
        if (!batchId) return 'stopped before a batch was created; nothing was queued';
        if (following) return `stopped waiting; batch ${batchId} goes on in the deployment. Follow it with: facepipe status ${batchId} (results: facepipe results ${batchId})`;
        return `stopped queueing batch ${batchId} after ${plural(queued, 'input')}: those go on in the deployment (facepipe status ${batchId}); the rest were not queued: ingest the same input again to queue them (inputs already done are answered from their results)`;
      }, () => producer.close());
      try {
        // The id goes out before anything waits, so an interrupted run can still be followed.
        const announce = (id: string) => {
          batchId = id;
          if (values.json) process.stderr.write(`batch ${id}\n`);
          else process.stdout.write(`batch ${id}\n`);
        };
        const onItem = (n: number) => {
          queued = n;
          bar.update(n, undefined);
        };
        const onResume = (b: { id: string; total: number }) =>
          process.stderr.write(`continuing batch ${b.id}, cut short after ${plural(b.total, 'input')}: admitting the inputs it does not list yet\n`);
        const { total, skipped, skippedBy } = await producer.ingest({
          input: positionals[0]!,
          force: values.force,
          allFiles: values['all-files'],
          onItem,
          onBatch: announce,
          resume: values.resume ?? 'auto',
          onResume,
        });
        bar.done();
        if (skipped > 0) process.stderr.write(`${describeInputSkips(skippedBy)}\n`);
        if (!values.wait) {
          process.stdout.write(values.json ? `${JSON.stringify({ batchId, total, skipped })}\n` : `batch ${batchId}: ${plural(total, 'input')} queued\n`);
          return ExitCode.Ok;
        }
        following = true;
        const wait = new ProgressBar('processing');
        const batch = await producer.waitForBatch(batchId!, (b) => wait.update(b.done + b.failed, b.total, plural(b.faces, 'face')), {
          onConnection: (lost) =>
            process.stderr.write(lost ? `\nlost the connection to Redis (${lost.message}); reconnecting, still waiting for batch ${batchId}\n` : 'connection to Redis is back\n'),
        });
        wait.done();
        process.stdout.write(values.json ? `${JSON.stringify(batch)}\n` : `batch ${batchId}: ${batch.done} done, ${batch.failed} failed, ${plural(batch.faces, 'face')}\n`);
        return batch.failed > 0 ? ExitCode.BatchHadFailures : ExitCode.Ok;
      } finally {
        interrupted.dispose();
      }
    }, { dataDir: values['data-dir'] });
  },
};
