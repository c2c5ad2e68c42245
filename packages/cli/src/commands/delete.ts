import { parseArgs } from 'node:util';
import { isImageId } from '@facepipe/core';
import { dataDirOption, dataDirUsage } from './deployment.js';
import { UsageError, type Command } from './command.js';
import { cliActor, describeErasure, withEraser } from './erasure.js';

export const deleteCommand: Command = {
  name: 'delete',
  summary: 'erase an image and everything derived from it (original, faces, embeddings, results, index rows, Redis)',
  usage: `facepipe delete image <imageId> [--json]

Erases the image completely: the original and every derived object of every model version
(faces, chips, embeddings, result, labels, gallery membership), its faces, cluster membership,
examples and hand labels in the face index, and what Redis remembers of it (outcome, jobs,
events); batch manifests say ERASED in its place. The same bytes ingested later are processed
afresh. Logged without the id (facepipe erasures). Erasing twice is fine. An image still being
processed is refused (IMAGE_BUSY) and nothing is erased. To erase a person: facepipe people delete
<name> --erase.

Options:
${dataDirUsage}`,
  async run(argv) {
    const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { ...dataDirOption, json: { type: 'boolean', default: false } } });
    const [what, id] = positionals;
    if (what !== 'image' || positionals.length !== 2) throw new UsageError('usage: facepipe delete image <imageId>');
    if (!isImageId(id)) throw new UsageError('the image id is 64 lowercase hex digits (the sha256 of the photo)');
    return withEraser(values['data-dir'], false, async (eraser) => {
      const outcome = await eraser.eraseImage(id, cliActor());
      const found = outcome.record.counts.images > 0;
      if (values.json) process.stdout.write(`${JSON.stringify({ imageId: id, erased: true, found, erasure: outcome.record })}\n`);
      else process.stdout.write(found ? `image ${id} erased: ${describeErasure(outcome)}\n` : `nothing was stored about image ${id} (erased before?); logged as ${outcome.record.id}\n`);
      return 0;
    });
  },
};
