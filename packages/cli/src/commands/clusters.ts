import { parseArgs } from 'node:util';
import { UsageError, type Command } from './command.js';
import { plural } from '../ui/progress.js';
import { libraryDataDirOption, libraryDataDirUsage, withLibrary } from './library.js';

export const clustersCommand: Command = {
  name: 'clusters',
  summary: 'groups of similar faces nobody has named yet (name one with facepipe people name)',
  usage: `facepipe clusters [--json]      every cluster, largest first, with a few of its faces
facepipe clusters rebuild       cluster every unnamed face again from scratch (ids are kept where
                                most of a cluster's faces stay together)

With --json, one line per cluster: {"cluster","faces","samples":[{"imageId","face","source"}]}.

Options:
${libraryDataDirUsage}`,
  async run(argv) {
    const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { ...libraryDataDirOption, json: { type: 'boolean', default: false } } });
    if (positionals.length > 1 || (positionals[0] !== undefined && positionals[0] !== 'rebuild')) throw new UsageError('facepipe clusters takes no argument but "rebuild"');
    return withLibrary(values['data-dir'], async ({ index, library }) => {
      if (positionals[0] === 'rebuild') {
        for (const version of await index.repos.faces.embedVersions()) {
          const r = await index.writeTransaction((repos) => repos.clusterer.recluster(version));
          process.stdout.write(`embedding ${version}: ${plural(r.faces, 'unnamed face')}, ${plural(r.clusters, 'cluster')}, ${r.noise} in none\n`);
        }
        return 0;
      }
      const clusters = await library.clusters();
      for (const c of clusters) {
        const samples = c.samples.map((s) => ({ imageId: s.imageId, face: s.faceIndex, source: s.source }));
        process.stdout.write(values.json ? `${JSON.stringify({ cluster: c.id, faces: c.faces, samples })}\n` : `${c.id}\t${plural(c.faces, 'face')}\t${samples.map((s) => `${s.source}#${s.face}`).join(', ')}\n`);
      }
      if (!values.json && clusters.length === 0) process.stderr.write('no clusters: every face is named, or no group of similar unnamed faces is large enough yet\n');
      return 0;
    });
  },
};
