import { parseArgs } from 'node:util';
import { loadConfig } from '@facepipe/core';
import { facesOfOtherVersions, PhotoSearch, searchLibrary, type SearchProbe } from '@facepipe/producer';
import { readInputFile } from '../vision/inputs.js';
import { UsageError, type Command } from './command.js';
import { libraryDataDirOption, libraryDataDirUsage, requireLibrary, withLibrary } from './library.js';

export const searchCommand: Command = {
  name: 'search',
  summary: 'find a face in the library: the faces nearest to one in a photo',
  usage: `facepipe search <photo> [--limit N] [--face N] [--json]

Detects and embeds the photo here (same models and settings as the pipeline), then asks the face
index for the nearest faces (HNSW, approximate), nearest first. The largest face of the photo is
searched unless --face N (N = the face's index in detection order, from 0).

With --json, one line per hit: {"imageId","source","face","distance","name","cluster"}
(source = the file as it was ingested, relative to the folder given to run/ingest).

Options:
  --limit N             hits to return (default 10, at most 1000)
  --face N              which face of the photo to search
${libraryDataDirUsage}`,
  async run(argv) {
    const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { ...libraryDataDirOption, limit: { type: 'string', default: '10' }, face: { type: 'string' }, json: { type: 'boolean', default: false } } });
    const photo = positionals[0];
    if (!photo || positionals.length !== 1) throw new UsageError('facepipe search needs one photo');
    const limit = Number(values.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new UsageError('--limit must be a whole number from 1 to 1000');
    const faceArg = values.face === undefined ? undefined : Number(values.face);
    if (faceArg !== undefined && (!Number.isInteger(faceArg) || faceArg < 0)) throw new UsageError('--face must be a whole number from 0');
    requireLibrary(values['data-dir']);
    const config = loadConfig();
    const bytes = await readInputFile(photo, config.detect.maxBytes);
    const search = await PhotoSearch.create(config);
    let probe: SearchProbe;
    try {
      probe = await search.probe(bytes, faceArg, photo);
    } finally {
      await search.close();
    }
    return withLibrary(values['data-dir'], async ({ library }) => {
      const hits = await searchLibrary(library, probe, limit);
      if (hits.length === 0) {
        const other = await facesOfOtherVersions(library, probe.embedVersion);
        process.stderr.write(other > 0 ? `no faces of embedding version ${probe.embedVersion} in the library (${other} faces of other versions: run facepipe reindex stale)\n` : 'the library has no faces yet\n');
        return values.json ? 0 : 1;
      }
      for (const line of hits) {
        process.stdout.write(values.json ? `${JSON.stringify(line)}\n` : `${line.distance.toFixed(3)}  ${line.source}#${line.face}  ${line.name ?? (line.cluster ? `cluster ${line.cluster}` : 'unknown')}\n`);
      }
      return 0;
    });
  },
};
