import { parseArgs } from 'node:util';
import { erasureRef } from '@facepipe/producer';
import { dataDirOption, dataDirUsage } from './deployment.js';
import { UsageError, type Command } from './command.js';
import { describeRecord, withEraser } from './erasure.js';

export const erasuresCommand: Command = {
  name: 'erasures',
  summary: 'the erasure log: who erased what kind of data when, with counts (no ids, names or faces)',
  usage: `facepipe erasures [--limit N] [--json]       the newest entries first (default 50)
facepipe erasures --ref-of image <imageId>     the log's reference for an image id or a name, to
facepipe erasures --ref-of person <name>       find its entry (the log never holds the id or name)

Options:
${dataDirUsage}`,
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { ...dataDirOption, json: { type: 'boolean', default: false }, limit: { type: 'string', default: '50' }, 'ref-of': { type: 'string' } },
    });
    const refKind = values['ref-of'];
    if (refKind !== undefined) {
      if ((refKind !== 'image' && refKind !== 'person') || positionals.length !== 1) throw new UsageError('usage: facepipe erasures --ref-of image <imageId> | --ref-of person <name>');
      process.stdout.write(`${erasureRef(refKind, positionals[0]!)}\n`);
      return 0;
    }
    if (positionals.length > 0) throw new UsageError('facepipe erasures takes no arguments');
    const limit = Number(values.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new UsageError('--limit is a whole number from 1 to 1000');
    return withEraser(values['data-dir'], false, async (eraser) => {
      const records = await eraser.log.list(limit);
      for (const r of records) process.stdout.write(values.json ? `${JSON.stringify(r)}\n` : `${describeRecord(r)}\n`);
      if (!values.json && records.length === 0) process.stdout.write('nothing has been erased\n');
      return 0;
    });
  },
};
