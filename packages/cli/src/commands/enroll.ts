import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { enrollmentPhotos, isPersonName, type ObjectStore } from '@facepipe/core';
import { tallyPreview } from '@facepipe/face-index';
import { fileListItems } from '@facepipe/producer';
import { dataDirOption, dataDirUsage, withProducer } from './deployment.js';
import { UsageError, type Command } from './command.js';
import { withLibrary } from './library.js';
import { answerText } from './people.js';
import { plural } from '../ui/progress.js';

/** What enrolling a processed enrollment batch would name (FaceLibrary.previewEnroll); nothing is done. */
async function previewEnrollment(store: ObjectStore, batchId: string, dataDir: string, json: boolean): Promise<number> {
  const { items, examples } = await enrollmentPhotos(store, batchId);
  for (const item of items) if (item.status === 'rejected') process.stderr.write(`rejected  ${item.person}: ${item.source} [${item.error?.code}] ${item.error?.message}\n`);
  if (examples.size === 0) {
    process.stderr.write('facepipe: no photo would be enrolled (each must show exactly one face)\n');
    return 1;
  }
  const previews = await withLibrary(dataDir, ({ library }) => library.previewEnroll(examples));
  for (const p of previews) {
    for (const f of p.changes) {
      if (json) process.stdout.write(`${JSON.stringify({ person: p.person, imageId: f.imageId, face: f.faceIndex, source: f.source, before: f.before, after: f.after })}\n`);
      else if (f.after.how !== 'enrolled') process.stdout.write(`${p.person}\t${f.imageId} ${f.faceIndex}\t${f.source}\t${answerText(f.after)} (was ${answerText(f.before)})\n`);
    }
    if (!json) {
      const t = tallyPreview(p.changes);
      process.stdout.write(`enrolling ${p.person} (${plural(examples.get(p.person)!.length, 'photo')}) would name ${plural(t.named, 'more face')} across the library; ${plural(t.suggested, 'suggestion')}${t.unnamed ? `; ${plural(t.unnamed, 'face')} would lose a name` : ''}\n`);
    }
  }
  if (!json) process.stdout.write('Nothing was changed: run the same command without --preview to enroll.\n');
  return 0;
}

export const enrollCommand: Command = {
  name: 'enroll',
  summary: 'enroll known people on a running deployment',
  usage: `facepipe enroll <dir>                      one subfolder per person (folder name = name)
facepipe enroll --name <name> <files...>   photos of one person
facepipe enroll … --preview [--json]       process the photos, then say what enrolling them would
                                           name across the library, doing nothing (no gallery
                                           version, no name); run it again without --preview to
                                           enroll (the photos are not processed twice)

Enrollment photos go through the pipeline; each must show exactly one face (others are reported
with NO_FACE or MULTIPLE_FACES, not used). Publishes a new gallery version that classify
workers pick up without a restart. With --preview --json: one line per face that would change,
{"person","imageId","face","source","before","after"}, each {"name","how","suggestion","distance"}.

Options:
${dataDirUsage}`,
  async run(argv) {
    const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { ...dataDirOption, name: { type: 'string' }, json: { type: 'boolean', default: false }, preview: { type: 'boolean', default: false } } });
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
      if (values.preview) return previewEnrollment(producer.ctx.store, batchId, values['data-dir'], values.json);
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
