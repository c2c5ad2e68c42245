import { parseArgs } from 'node:util';
import { isImageId } from '@facepipe/core';
import { openLibrary } from '@facepipe/face-index';
import { labelFace } from '@facepipe/producer';
import { dataDirOption, dataDirUsage, deploymentEnv, withProducer } from './deployment.js';
import { UsageError, type Command } from './command.js';

export const labelCommand: Command = {
  name: 'label',
  summary: 'name a face by hand (kept across re-runs), or --clear the name',
  usage: `facepipe label <imageId> <faceIndex> <name> [--by <who>]
facepipe label <imageId> <faceIndex> --clear

A name given here wins over the automatic match and survives re-processing and re-indexing: it
is kept in the face index by box, and the pipeline applies it to every later result of the image
(matched by box overlap). Faces across the library that match it are named at once.

Options:
${dataDirUsage}`,
  async run(argv) {
    const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { ...dataDirOption, by: { type: 'string' }, clear: { type: 'boolean', default: false } } });
    const [imageId, index, name] = positionals;
    if (!imageId || !isImageId(imageId)) throw new UsageError('the first argument must be an image id (64 hex digits)');
    const faceIndex = Number(index);
    if (!Number.isInteger(faceIndex) || faceIndex < 0) throw new UsageError('the face index must be a whole number from 0');
    if (values.clear === (name !== undefined)) throw new UsageError('give a name, or --clear');
    return withProducer('label', async (producer) => {
      const env = deploymentEnv(values['data-dir']);
      const library = env.DATABASE_URL ? await openLibrary({ env, dataDir: values['data-dir'], library: { tolerance: producer.ctx.config.classify.tolerance } }) : undefined;
      const result = await labelFace(producer.ctx.store, imageId, faceIndex, values.clear ? null : name!, values.by, library?.library).finally(() => library?.close());
      const face = result.faces.find((f) => f.index === faceIndex)!;
      process.stdout.write(`face ${faceIndex} of ${imageId}: ${face.name ?? 'unknown'}${face.label ? ' (given by hand)' : ''}\n`);
      return 0;
    }, { dataDir: values['data-dir'] });
  },
};
