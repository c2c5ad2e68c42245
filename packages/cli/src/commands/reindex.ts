import { parseArgs } from 'node:util';
import type { ReindexKind } from '@facepipe/producer';
import { openLibrary } from '@facepipe/face-index';
import { dataDirOption, dataDirUsage, deploymentEnv, withProducer } from './deployment.js';
import { UsageError, type Command } from './command.js';
import { ProgressBar } from '../ui/progress.js';

export const reindexCommand: Command = {
  name: 'reindex',
  summary: 're-classify every face, or re-process results of older model versions',
  usage: `facepipe reindex classify [--wait] [--json]   name every embedded face again (new gallery, tolerance, classifier)
facepipe reindex stale [--wait] [--json]      re-process images whose results are from other model versions
facepipe reindex missing [--wait] [--json]    re-process images the face index has no usable result for

The work is selected with queries on the face index's version columns (DATABASE_URL, or the
deployment's), a page at a time; without an index, by reading every stored result. Queued as a
batch (facepipe status <batchId>); names given by hand are kept. To run it on a schedule, call
it from cron or a Kubernetes CronJob (docs/deployment.md).

Options:
${dataDirUsage}`,
  async run(argv) {
    const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { ...dataDirOption, wait: { type: 'boolean', default: false }, json: { type: 'boolean', default: false } } });
    const kind = positionals[0] as ReindexKind | undefined;
    if ((kind !== 'classify' && kind !== 'stale' && kind !== 'missing') || positionals.length !== 1) throw new UsageError('facepipe reindex needs "classify", "stale" or "missing"');
    return withProducer('reindex', async (producer) => {
      const env = deploymentEnv(values['data-dir']);
      // The deployment's face index; a data dir's embedded one only if the deployment runs on it.
      const library = env.DATABASE_URL ? await openLibrary({ env, dataDir: values['data-dir'] }) : undefined;
      const reindexer = producer.reindexer(library?.index);
      const bar = new ProgressBar('queueing', { unit: 'image' });
      const { batchId, total, scanned } = await reindexer.run(kind, { onItem: (n) => bar.update(n, undefined) }).finally(() => library?.close());
      bar.done();
      const batch = values.wait ? await producer.waitForBatch(batchId) : await producer.getBatch(batchId);
      if (values.json) process.stdout.write(`${JSON.stringify({ batchId, total, scanned, batch })}\n`);
      else process.stdout.write(`re-index ${kind}: batch ${batchId}, ${total} of ${scanned} images queued${values.wait ? `; ${batch?.done} done, ${batch?.failed} failed` : ''}\n`);
      return 0;
    }, { dataDir: values['data-dir'] });
  },
};
