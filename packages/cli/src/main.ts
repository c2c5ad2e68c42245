#!/usr/bin/env node
import { ConfigError, FacepipeError } from '@facepipe/core';
import { NoDeploymentError } from '@facepipe/devstack';
import { UsageError, type Command } from './commands/command.js';
import { deploymentProcessCommand } from './commands/deployment-process.js';
import { detectCommand } from './commands/detect.js';
import { downCommand } from './commands/down.js';
import { enrollCommand } from './commands/enroll.js';
import { evalDetectionCommand } from './commands/eval-detection.js';
import { evalLandmarksCommand } from './commands/eval-landmarks.js';
import { ingestCommand } from './commands/ingest.js';
import { clustersCommand } from './commands/clusters.js';
import { labelCommand } from './commands/label.js';
import { peopleCommand } from './commands/people.js';
import { searchCommand } from './commands/search.js';
import { reindexCommand } from './commands/reindex.js';
import { resultsCommand } from './commands/results.js';
import { runCommand } from './commands/run.js';
import { schedulesCommand } from './commands/schedules.js';
import { serveCommand } from './commands/serve.js';
import { statusCommand } from './commands/status.js';
import { upCommand } from './commands/up.js';
import { verifyCommand } from './commands/verify.js';
import { workerCommand } from './commands/worker.js';

const commands: Command[] = [runCommand, upCommand, downCommand, serveCommand, ingestCommand, enrollCommand, statusCommand, resultsCommand, peopleCommand, clustersCommand, searchCommand, labelCommand, reindexCommand, schedulesCommand, workerCommand, detectCommand, verifyCommand, evalDetectionCommand, evalLandmarksCommand];
/** Commands run by facepipe itself, not listed in the usage. */
const internalCommands: Command[] = [deploymentProcessCommand];

function usage(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    'facepipe: find, align, embed and name faces in photos, at any scale',
    '',
    'Usage: facepipe <command> [options]   (facepipe <command> --help for details)',
    '',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Configuration comes from environment variables; see docs/configuration.md.',
  ].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${usage()}\n`);
    return name ? 0 : 2;
  }
  const command = [...commands, ...internalCommands].find((c) => c.name === name);
  if (!command) {
    process.stderr.write(`facepipe: unknown command "${name}"\n\n${usage()}\n`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`${command.usage}\n`);
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (err) {
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`facepipe ${name}: ${(err as Error).message}\n\n${command.usage}\n`);
      return 2;
    }
    if (err instanceof NoDeploymentError) {
      process.stderr.write(`facepipe ${name}: ${err.message}\n`);
      return 2;
    }
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      return 2;
    }
    if (err instanceof FacepipeError) {
      process.stderr.write(`facepipe ${name}: [${err.code}] ${err.message}\n`);
      return 1;
    }
    process.stderr.write(`facepipe ${name}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
