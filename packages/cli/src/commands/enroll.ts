import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { isPersonName } from '@facepipe/core';
import { fileListItems } from '@facepipe/producer';
import { dataDirOption, dataDirUsage, withProducer } from './deployment.js';
import { UsageError, type Command } from './command.js';

export const enrollCommand: Command = {
  name: 'enroll',
  summary: 'enroll known people on a running deployment',
  usage: `facepipe enroll <dir>                      one subfolder per person (folder name = name)
facepipe enroll --name <name> <files...>   photos of one person

Enrollment photos go through the pipeline; each must show exactly one face (others are reported
with NO_FACE or MULTIPLE_FACES, not used). Publishes a new gallery version that classify
workers pick up without a restart.

Options:
${dataDirUsage}`,
  async run(argv) {
    const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { ...dataDirOption, name: { type: 'string' }, json: { type: 'boolean', default: false } } });
    if (positionals.length === 0) throw new UsageError('facepipe enroll needs a folder, or --name and files');
    if (values.name === undefined && positionals.length !== 1) throw new UsageError('without --name, give one folder with a subfolder per person');
    if (values.name !== undefined && !isPersonName(values.name)) throw new UsageError(`"${values.name}" is not a valid name (letters, digits, space . _ ' -; at most 100)`);
    return withProducer('enroll', async (producer) => {
      const { batchId } =
        values.name !== undefined
          ? await producer.ingestItems(fileListItems(positionals.map((p) => resolve(p)), values.name), { purpose: 'enroll', sourceLabel: `enroll ${values.name}` })
          : await producer.ingest({ input: positionals[0]!, purpose: 'enroll', personFromFolder: true });
      await producer.waitForBatch(batchId, undefined, {
        onConnection: (lost) => process.stderr.write(lost ? `lost the connection to Redis (${lost.message}); reconnecting, still waiting for batch ${batchId}\n` : 'connection to Redis is back\n'),
      });
      const report = await producer.completeEnrollment(batchId);
      if (values.json) {
        process.stdout.write(`${JSON.stringify(report)}\n`);
      } else {
        for (const item of report.items) {
          process.stdout.write(item.status === 'enrolled' ? `enrolled  ${item.person}: ${item.source}\n` : `rejected  ${item.person}: ${item.source} [${item.error?.code}] ${item.error?.message}\n`);
        }
        process.stdout.write(`gallery version ${report.galleryVersion}\n`);
      }
      return report.items.some((i) => i.status === 'enrolled') ? 0 : 1;
    }, { dataDir: values['data-dir'] });
  },
};
