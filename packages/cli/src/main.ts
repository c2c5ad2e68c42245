#!/usr/bin/env node
import './quiet-warnings.js';
import { NoDeploymentError } from '@facepipe/devstack';
import { UsageError, type Command } from './commands/command.js';
import { deploymentProcessCommand } from './commands/deployment-process.js';
import { describeFailure, ExitCode } from './errors/cli-failure.js';
import { detectCommand } from './commands/detect.js';
import { downCommand } from './commands/down.js';
import { enrollCommand } from './commands/enroll.js';
import { evalDetectionCommand } from './commands/eval-detection.js';
import { evalLandmarksCommand } from './commands/eval-landmarks.js';
import { ingestCommand } from './commands/ingest.js';
import { clustersCommand } from './commands/clusters.js';
import { keysCommand } from './commands/keys.js';
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

const commands: Command[] = [runCommand, upCommand, downCommand, serveCommand, ingestCommand, enrollCommand, statusCommand, resultsCommand, peopleCommand, clustersCommand, searchCommand, keysCommand, labelCommand, reindexCommand, schedulesCommand, workerCommand, detectCommand, verifyCommand, evalDetectionCommand, evalLandmarksCommand];
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
    'Options for every command: --debug (stack traces with errors).',
    'Configuration comes from environment variables; see docs/configuration.md.',
    '',
    'Exit codes: 0 done, 1 failed, 2 wrong usage or configuration, 3 Redis or S3 unreachable,',
    '            4 an input or output file missing or unreadable, 5 batch finished with failed inputs.',
  ].join('\n');
}

/** `facepipe … | head`: the reader left; stop quietly instead of printing an EPIPE stack. */
function quietOnBrokenPipe(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw err;
    });
  }
}

async function main(args: string[]): Promise<number> {
  const debug = args.includes('--debug') || process.env.FACEPIPE_DEBUG === '1';
  const argv = args.filter((a) => a !== '--debug');
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
      return ExitCode.Usage;
    }
    if (err instanceof NoDeploymentError) {
      process.stderr.write(`facepipe ${name}: ${err.message}\n`);
      return ExitCode.Usage;
    }
    const failure = describeFailure(err, name);
    process.stderr.write(`${failure.message}\n`);
    if (debug) process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    else if (!failure.known) process.stderr.write('(run again with --debug for the details)\n');
    return failure.exitCode;
  }
}

quietOnBrokenPipe();
process.exitCode = await main(process.argv.slice(2));
