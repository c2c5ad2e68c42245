import { parseArgs } from 'node:util';
import { FacepipeError, loadConfig } from '@facepipe/core';
import { FaceAnalyzer } from '@facepipe/vision';
import { readInputFile } from '../vision/inputs.js';
import { UsageError, type Command } from './command.js';
import { libraryDataDirOption, libraryDataDirUsage, withLibrary } from './library.js';

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
    const config = loadConfig();
    const bytes = await readInputFile(photo, config.detect.maxBytes);
    const analyzer = await FaceAnalyzer.create({
      detector: config.detect.detector,
      minScore: config.detect.minScore,
      minFaceSize: config.detect.minFaceSize,
      maxPixels: config.detect.maxPixels,
      maxBytes: config.detect.maxBytes,
      flip: config.embed.flip,
      executionProvider: config.inference.executionProvider,
      intraOpThreads: config.inference.intraOpThreads,
      inferenceThreads: config.inference.threads,
    });
    let probe: { embedding: Float32Array; face: number; embedVersion: string };
    try {
      const described = await analyzer.describe(bytes);
      if (described.faces.length === 0) throw new FacepipeError('NO_FACE', `no face was found in ${photo}`);
      const area = (i: number) => described.faces[i]!.box[2] * described.faces[i]!.box[3];
      const face = faceArg ?? described.faces.map((_, i) => i).sort((x, y) => area(y) - area(x))[0]!;
      if (face >= described.faces.length) throw new UsageError(`${photo} has ${described.faces.length} faces; --face must be below that`);
      probe = { embedding: described.embeddings[face]!, face, embedVersion: analyzer.embedVersion.tag };
    } finally {
      await analyzer.close();
    }
    return withLibrary(values['data-dir'], async ({ index, library }) => {
      const hits = await library.search(probe.embedding, probe.embedVersion, limit);
      if (hits.length === 0) {
        const { rows } = await index.pool.query<{ n: string }>('SELECT count(*) AS n FROM faces WHERE embed_version <> $1', [probe.embedVersion]);
        const other = Number(rows[0]!.n);
        process.stderr.write(other > 0 ? `no faces of embedding version ${probe.embedVersion} in the library (${other} faces of other versions: run facepipe reindex stale)\n` : 'the library has no faces yet\n');
        return values.json ? 0 : 1;
      }
      for (const h of hits) {
        const line = { imageId: h.imageId, source: h.source, face: h.faceIndex, distance: Math.round(h.distance * 1e6) / 1e6, name: h.name, cluster: h.personId === null ? h.clusterId : null };
        process.stdout.write(values.json ? `${JSON.stringify(line)}\n` : `${line.distance.toFixed(3)}  ${line.source}#${line.face}  ${line.name ?? (line.cluster ? `cluster ${line.cluster}` : 'unknown')}\n`);
      }
      return 0;
    });
  },
};
