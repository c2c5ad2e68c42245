import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import { isImageId, objectKeys, type ResultDocument } from '@facepipe/core';
import { openLibrary } from '@facepipe/face-index';
import { batchResults, toResultLine } from '@facepipe/producer';
import { dataDirOption, dataDirUsage, deploymentEnv, withProducer } from './deployment.js';
import { UsageError, type Command } from './command.js';

export const resultsCommand: Command = {
  name: 'results',
  summary: "an image's result document, or a batch's results as JSONL",
  usage: `facepipe results <imageId>                  the full result document (JSON)
facepipe results <batchId> [--out file] [--full] [--threshold D]
                                           one line per input (--full: whole documents;
                                           --threshold: automatic names only at distance D
                                           or nearer, farther ones become suggestions)

Options:
${dataDirUsage}`,
  async run(argv) {
    const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { ...dataDirOption, out: { type: 'string' }, full: { type: 'boolean', default: false }, threshold: { type: 'string' } } });
    const threshold = values.threshold === undefined ? undefined : Number(values.threshold);
    if (threshold !== undefined && !(Number.isFinite(threshold) && threshold >= 0 && threshold <= 4)) throw new UsageError(`--threshold must be a distance from 0 to 4, e.g. 0.5 (got "${values.threshold}")`);
    const id = positionals[0];
    if (!id || positionals.length > 1) throw new UsageError('facepipe results needs one image id or batch id');
    return withProducer('results', async (producer) => {
      if (isImageId(id)) {
        // A failure recorded while S3 was down waits in Redis until the sweeper writes it.
        const result = (await producer.ctx.store.getJson<ResultDocument>(objectKeys.result(id))) ?? (await producer.ctx.outcomes.failureOf(id));
        if (!result) {
          const state = await producer.ctx.tracker.imageState(id);
          process.stderr.write(state ? `image ${id} is ${state.state}${state.code ? ` (${state.code})` : ''}; no result document yet\n` : `no result for image ${id}: it has not been processed\n`);
          return 1;
        }
        process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
        return 0;
      }
      if (!(await producer.getBatch(id))) {
        process.stderr.write(`no batch or image ${id}\n`);
        return 1;
      }
      const out = values.out ? createWriteStream(values.out) : process.stdout;
      // With the deployment's face index, lines carry its current names and each face's cluster.
      const env = deploymentEnv(values['data-dir']);
      const library = env.DATABASE_URL && !values.full ? await openLibrary({ env, dataDir: values['data-dir'] }) : undefined;
      try {
        for await (const { entry, result: stored, faces } of batchResults(producer.ctx.store, id, 16, library?.index)) {
          const result = stored ?? (entry.imageId ? await producer.ctx.outcomes.failureOf(entry.imageId) : undefined);
          const line = values.full ? { file: entry.source, imageId: entry.imageId, ...(entry.error ? { error: entry.error } : {}), result: result ?? null } : toResultLine(entry, result, faces, { threshold });
          if (!out.write(`${JSON.stringify(line)}\n`)) await once(out, 'drain');
        }
      } finally {
        await library?.close();
      }
      if (out !== process.stdout) await new Promise((r) => (out as ReturnType<typeof createWriteStream>).end(r));
      return 0;
    }, { dataDir: values['data-dir'] });
  },
};
