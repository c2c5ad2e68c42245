import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '@facepipe/core/light';
import { evaluateLibrary, formatLibraryReport, type LibraryEvalOptions } from '@facepipe/face-index';
import { embedLibrary, listLabelledLibrary, type LibraryPhoto } from '../vision/library-embeddings.js';
import { numberFlag, resolveDetectSettings } from '../vision/settings.js';
import { UsageError, type Command } from './command.js';

export const evalLibraryCommand: Command = {
  name: 'eval-library',
  summary: 'naming and clustering accuracy over a labelled photo library (strangers named, clusters)',
  usage: `facepipe eval-library <dir> [<dir>…] [--enroll-people K] [--enroll-photos N] [--json] [options]

Runs the pipeline's detection, alignment and embedding over a labelled library (a folder per
person at any depth, or LFW-style file names <Name>_0001.jpg), enrolls N photos of each of K
people (chosen in a fixed pseudo-random order among those with at least 2N photos), names every
other photo's subject (its largest central face) with facepipe's rule and clusters the faces with
nobody enrolled, then prints: strangers
named and suggested, enrolled people's photos named right, suggestions right/wrong, clusters'
pairwise and BCubed precision/recall and the most people in one cluster — and the classic rules
on the same embeddings (nearest example within 0.6; dlib's Chinese whispers at 0.5; DBSCAN).
Embeddings are cached per photo under <data-dir>/eval-cache/, so a second run takes seconds.

Options:
  --enroll-people <K>   people enrolled (default 20)
  --enroll-photos <N>   photos enrolled per person (default 5)
  --draws <n>           also name with n different sets of enrolled people (the first is the one
                        reported) and print the figures pooled over them (default 1: off)
  --photos <n>          evaluate the first n photos only, in a fixed shuffled order that keeps the
                        enrolled people's photos (for figures at several library sizes)
  --data-dir <dir>      where the embedding cache lives (default ./.facepipe)
  --json                one JSON object instead of tables
  --concurrency <n>     images in flight while embedding`,
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        'enroll-people': { type: 'string', default: '20' },
        'enroll-photos': { type: 'string', default: '5' },
        photos: { type: 'string' },
        draws: { type: 'string', default: '1' },
        'data-dir': { type: 'string', default: '.facepipe' },
        json: { type: 'boolean', default: false },
        concurrency: { type: 'string' },
      },
    });
    if (positionals.length === 0) throw new UsageError('give the library folder');
    const options: LibraryEvalOptions = {
      enrollPeople: numberFlag('enroll-people', values['enroll-people']!, { min: 0, max: 100_000, integer: true }),
      enrollPhotos: numberFlag('enroll-photos', values['enroll-photos']!, { min: 1, max: 1000, integer: true }),
      draws: numberFlag('draws', values.draws!, { min: 1, max: 1000, integer: true }),
      ...(values.photos !== undefined ? { photos: numberFlag('photos', values.photos, { min: 1, max: 100_000_000, integer: true }) } : {}),
    };
    const config = loadConfig();
    const settings = resolveDetectSettings(config, { concurrency: values.concurrency });
    const photos: LibraryPhoto[] = [];
    let embedVersion = '';
    for (const dir of positionals) {
      if (!(await stat(dir).catch(() => undefined))?.isDirectory()) throw new UsageError(`${dir} is not a folder`);
      const files = await listLabelledLibrary(resolve(dir));
      if (files.length === 0) throw new UsageError(`${dir} has no photos`);
      const out = await embedLibrary(config, settings, files, join(values['data-dir']!, 'eval-cache'), (line) => process.stderr.write(`${line}\n`));
      photos.push(...out.photos);
      embedVersion = out.embedVersion;
    }
    const report = await evaluateLibrary(photos, { ...options, embedVersion });
    process.stdout.write(values.json ? `${JSON.stringify(report)}\n` : formatLibraryReport(report));
    return 0;
  },
};
