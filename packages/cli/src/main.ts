#!/usr/bin/env node
import './quiet-warnings.js';
import { UsageError, type Command } from './commands/command.js';
import { COMMANDS, INTERNAL_COMMANDS, type CommandEntry } from './commands/registry.js';
import { describeFailure, ExitCode } from './errors/cli-failure.js';


function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'facepipe: find, align, embed and name faces in photos, at any scale',
    '',
    'Usage: facepipe <command> [options]   (facepipe <command> --help for details)',
    '',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
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
  const entry: CommandEntry | undefined = [...COMMANDS, ...INTERNAL_COMMANDS].find((c) => c.name === name);
  if (!entry) {
    process.stderr.write(`facepipe: unknown command "${name}"\n\n${usage()}\n`);
    return 2;
  }
  // Only the command that runs is loaded: `detect` does not pay for the queue and storage clients.
  const command: Command = await entry.load();
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
    if (err instanceof Error && (err.name === 'NoDeploymentError' || err.name === 'DataDirError' || err.name === 'SocketPathTooLongError')) {
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
