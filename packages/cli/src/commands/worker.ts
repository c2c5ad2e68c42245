import { stageNames, type StageName } from '@facepipe/core';
import { UsageError, type Command } from './command.js';

/** Each stage's own entry point (the package's bin); importing it runs the worker. */
const stageEntries: Record<StageName, () => Promise<unknown>> = {
  detect: () => import('@facepipe/worker-detect/main'),
  embed: () => import('@facepipe/worker-embed/main'),
  classify: () => import('@facepipe/worker-classify/main'),
};

export const workerCommand: Command = {
  name: 'worker',
  summary: 'run one stage worker (detect, embed or classify) in this process',
  usage: `facepipe worker <detect|embed|classify>

Same entry point as each package's own bin (facepipe-worker-detect, …). Configured by the
environment (docs/configuration.md); stops gracefully on SIGTERM/SIGINT (a second signal forces).`,
  async run(argv) {
    const stage = argv[0] as StageName | undefined;
    if (!stage || !stageNames.includes(stage) || argv.length > 1) throw new UsageError(`facepipe worker needs one of: ${stageNames.join(', ')}`);
    await stageEntries[stage]();
    return 0;
  },
};
