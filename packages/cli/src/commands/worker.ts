import { pathToFileURL } from 'node:url';
import { stageNames, type StageName } from '@facepipe/core';
import { workerEntry } from '@facepipe/devstack';
import { UsageError, type Command } from './command.js';

export const workerCommand: Command = {
  name: 'worker',
  summary: 'run one stage worker (detect, embed or classify) in this process',
  usage: `facepipe worker <detect|embed|classify>

Same entry point as each package's own bin (facepipe-worker-detect, …). Configured by the
environment (docs/configuration.md); stops gracefully on SIGTERM/SIGINT (a second signal forces).`,
  async run(argv) {
    const stage = argv[0] as StageName | undefined;
    if (!stage || !stageNames.includes(stage) || argv.length > 1) throw new UsageError(`facepipe worker needs one of: ${stageNames.join(', ')}`);
    await import(pathToFileURL(workerEntry(stage)).href);
    return 0;
  },
};
