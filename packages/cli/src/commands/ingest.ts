import { parseArgs } from 'node:util';
import { dataDirOption, dataDirUsage, withProducer } from './deployment.js';
import { UsageError, type Command } from './command.js';
import { ProgressBar } from '../ui/progress.js';

export const ingestCommand: Command = {
  name: 'ingest',
  summary: 'queue a folder or s3://bucket/prefix as a batch on a running deployment',
  usage: `facepipe ingest <dir|s3://bucket/prefix> [--wait] [--force] [--all-files] [--json]

Stores each input under its content hash and queues what needs processing (REDIS_URL, S3_*).
Prints the batch id; --wait follows the batch until it finishes.

Options:
${dataDirUsage}`,
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { ...dataDirOption, wait: { type: 'boolean', default: false }, force: { type: 'boolean', default: false }, 'all-files': { type: 'boolean', default: false }, json: { type: 'boolean', default: false } },
    });
    if (positionals.length !== 1) throw new UsageError('facepipe ingest needs one folder or s3:// prefix');
    return withProducer('ingest', async (producer) => {
      const bar = new ProgressBar('queueing');
      const { batchId, total } = await producer.ingest({ input: positionals[0]!, force: values.force, allFiles: values['all-files'], onItem: (n) => bar.update(n, undefined) });
      bar.done();
      if (!values.wait) {
        process.stdout.write(values.json ? `${JSON.stringify({ batchId, total })}\n` : `batch ${batchId}: ${total} inputs queued\n`);
        return 0;
      }
      const wait = new ProgressBar('processing');
      const batch = await producer.waitForBatch(batchId, (b) => wait.update(b.done + b.failed, b.total, `${b.faces} faces`));
      wait.done();
      process.stdout.write(values.json ? `${JSON.stringify(batch)}\n` : `batch ${batchId}: ${batch.done} done, ${batch.failed} failed, ${batch.faces} faces\n`);
      return 0;
    }, { dataDir: values['data-dir'] });
  },
};
