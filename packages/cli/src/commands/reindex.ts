import { parseArgs } from 'node:util';
import type { ReindexKind } from '@facepipe/producer';
import { dataDirOption, dataDirUsage, withProducer } from './deployment.js';
import { UsageError, type Command } from './command.js';
import { ProgressBar } from '../ui/progress.js';

export const reindexCommand: Command = {
  name: 'reindex',
  summary: 're-classify every face, or re-process results of older model versions',
  usage: `facepipe reindex classify [--wait] [--json]   name every embedded face again (new gallery, tolerance, classifier)
facepipe reindex stale [--wait] [--json]      re-process images whose results are from other model versions

Queued as a batch (facepipe status <batchId>); names given by hand are kept. To run it on a
schedule, call it from cron or a Kubernetes CronJob (docs/deployment.md).

Options:
${dataDirUsage}`,
  async run(argv) {
    const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { ...dataDirOption, wait: { type: 'boolean', default: false }, json: { type: 'boolean', default: false } } });
    const kind = positionals[0] as ReindexKind | undefined;
    if ((kind !== 'classify' && kind !== 'stale') || positionals.length !== 1) throw new UsageError('facepipe reindex needs "classify" or "stale"');
    return withProducer('reindex', async (producer) => {
      const reindexer = producer.reindexer();
      const bar = new ProgressBar('queueing');
      const { batchId, total, scanned } = await reindexer.run(kind, { onItem: (n) => bar.update(n, undefined) });
      bar.done();
      const batch = values.wait ? await producer.waitForBatch(batchId) : await producer.getBatch(batchId);
      if (values.json) process.stdout.write(`${JSON.stringify({ batchId, total, scanned, batch })}\n`);
      else process.stdout.write(`re-index ${kind}: batch ${batchId}, ${total} of ${scanned} images queued${values.wait ? `; ${batch?.done} done, ${batch?.failed} failed` : ''}\n`);
      return 0;
    }, { dataDir: values['data-dir'] });
  },
};
