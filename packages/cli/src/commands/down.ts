import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { processAlive, readDeploymentRecord, removeDeploymentRecord } from '@facepipe/devstack';
import { UsageError, type Command } from './command.js';

export const downCommand: Command = {
  name: 'down',
  summary: 'stop the local deployment started by facepipe up',
  usage: `facepipe down [--data-dir <dir>]

Stops the local deployment running in <data-dir> (default ./.facepipe): the service, the pools
(active jobs finish; forced after --timeout seconds) and the embedded services. Its data stays in
<data-dir> for the next \`facepipe up\`. Exits 0, also when nothing was running.`,
  async run(argv) {
    const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { 'data-dir': { type: 'string', default: '.facepipe' }, timeout: { type: 'string', default: '90' } } });
    if (positionals.length > 0) throw new UsageError('facepipe down takes no arguments');
    const timeoutMs = Number(values.timeout) * 1000;
    if (!(timeoutMs > 0)) throw new UsageError('--timeout must be a positive number of seconds');
    const dataDir = resolve(values['data-dir']);
    const record = readDeploymentRecord(dataDir);
    if (!record) {
      process.stdout.write(`facepipe down: no local deployment in ${dataDir}\n`);
      return 0;
    }
    const wasRunning = processAlive(record.pid);
    await stop([record.pid], timeoutMs);
    // Whatever outlived the deployment process (it was killed, say): workers, redis-server.
    await stop(record.childPids, 10_000);
    removeDeploymentRecord(dataDir);
    process.stdout.write(wasRunning ? `facepipe down: stopped the local deployment in ${dataDir}\n` : `facepipe down: the deployment in ${dataDir} was not running; cleaned up\n`);
    return 0;
  },
};

/** SIGTERM, then SIGKILL for whatever is still alive after `graceMs`. */
async function stop(pids: number[], graceMs: number): Promise<void> {
  const alive = pids.filter(processAlive);
  for (const pid of alive) signal(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (alive.some(processAlive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  for (const pid of alive.filter(processAlive)) signal(pid, 'SIGKILL');
  while (alive.some(processAlive) && Date.now() < deadline + 5000) await new Promise((r) => setTimeout(r, 50));
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // gone already
  }
}
