import { parseArgs } from 'node:util';
import { describeInputSkips } from '@facepipe/core';
import { dataDirOption, dataDirUsage, withProducer } from './deployment.js';
import { UsageError, type Command } from './command.js';
import { ProgressBar } from '../ui/progress.js';
import { ExitCode } from '../errors/cli-failure.js';

export const ingestCommand: Command = {
  name: 'ingest',
  summary: 'queue a folder or s3://bucket/prefix as a batch on a running deployment',
  usage: `facepipe ingest <dir|s3://bucket/prefix> [--wait] [--force] [--all-files] [--json]

Stores each input under its content hash and queues what needs processing (REDIS_URL, S3_*).
Prints the batch id first; --wait follows the batch until it finishes, riding out Redis
restarts (it reconnects and keeps waiting).

Options:
${dataDirUsage}

Exit codes: 0 queued (or, with --wait, every input done), 5 with --wait: the batch finished but
some inputs failed (facepipe results <batchId> says why), 3 Redis or S3 unreachable,
4 the folder is missing or unreadable (no batch is created), 2 wrong usage.`,
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { ...dataDirOption, wait: { type: 'boolean', default: false }, force: { type: 'boolean', default: false }, 'all-files': { type: 'boolean', default: false }, json: { type: 'boolean', default: false } },
    });
    if (positionals.length !== 1) throw new UsageError('facepipe ingest needs one folder or s3:// prefix');
    return withProducer('ingest', async (producer) => {
      const bar = new ProgressBar('queueing');
      // The id goes out before anything waits, so an interrupted run can still be followed.
      const announce = (batchId: string) => {
        if (values.json) process.stderr.write(`batch ${batchId}\n`);
        else process.stdout.write(`batch ${batchId}\n`);
      };
      const { batchId, total, skipped, skippedBy } = await producer.ingest({ input: positionals[0]!, force: values.force, allFiles: values['all-files'], onItem: (n) => bar.update(n, undefined), onBatch: announce });
      bar.done();
      if (skipped > 0) process.stderr.write(`${describeInputSkips(skippedBy)}\n`);
      if (!values.wait) {
        process.stdout.write(values.json ? `${JSON.stringify({ batchId, total, skipped })}\n` : `batch ${batchId}: ${total} inputs queued\n`);
        return ExitCode.Ok;
      }
      const wait = new ProgressBar('processing');
      const batch = await producer.waitForBatch(batchId, (b) => wait.update(b.done + b.failed, b.total, `${b.faces} faces`), {
        onConnection: (lost) =>
          process.stderr.write(lost ? `\nlost the connection to Redis (${lost.message}); reconnecting, still waiting for batch ${batchId}\n` : 'connection to Redis is back\n'),
      });
      wait.done();
      process.stdout.write(values.json ? `${JSON.stringify(batch)}\n` : `batch ${batchId}: ${batch.done} done, ${batch.failed} failed, ${batch.faces} faces\n`);
      return batch.failed > 0 ? ExitCode.BatchHadFailures : ExitCode.Ok;
    }, { dataDir: values['data-dir'] });
  },
};
