import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { freeSpace, loadConfig } from '@facepipe/core';
import { claimServicePort, PortInUseError, processAlive, readDeploymentRecord, runningDeployment, secureDataDir, type DeploymentRecord } from '@facepipe/devstack';
import { ExitCode } from '../errors/cli-failure.js';
import { UsageError, type Command } from './command.js';
import { parseWorkerCounts, workerCountOptions, workerCountUsage } from './worker-counts.js';

const mainScript = fileURLToPath(new URL('../main.js', import.meta.url));

export const upCommand: Command = {
  name: 'up',
  summary: 'start a local deployment in the background (Redis, S3, pools, service) and print the dashboard URL',
  usage: `facepipe up [--data-dir <dir>] [options]

Starts a local deployment and leaves it running in the background: a private Redis keeping its
append-only file in <data-dir>/redis, the embedded S3-protocol server (<data-dir>/s3), the
embedded database (<data-dir>/db), the detect, embed and classify pools as processes, and the
HTTP service with its dashboard. Only its owner can use it: the data dir is mode 0700 (refused,
with the chmod to run, when others can read it), Redis and the S3 server require the random
credentials kept in <data-dir>/credentials.json, the database listens on a socket inside it. Returns
once every part is ready and prints a line \`dashboard: <url>\` whose URL signs the browser in;
the URL stays the same from one up to the next (the port is kept in the data dir).
Every other command (status, ingest, enroll, results, …) given the same --data-dir finds this
deployment by itself when REDIS_URL is not set. Restarts keep the data. Stop it with
\`facepipe down\`. Already running: prints its URL again.

Options:
  --data-dir <dir>      data, logs and connection settings (default ./.facepipe)
${workerCountUsage}
  --port <n>            port of the service and dashboard, kept in <data-dir>/port for the next
                        up (default: the kept one; the first up picks a free one; 0: a new one)
  --timeout <s>         how long to wait for every part to be ready (default 300)`,
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { 'data-dir': { type: 'string', default: '.facepipe' }, ...workerCountOptions, port: { type: 'string' }, timeout: { type: 'string', default: '300' } },
    });
    if (positionals.length > 0) throw new UsageError('facepipe up takes no arguments');
    parseWorkerCounts(values);
    const requestedPort = values.port === undefined ? undefined : Number(values.port);
    if (requestedPort !== undefined && (!Number.isInteger(requestedPort) || requestedPort < 0 || requestedPort > 65535)) throw new UsageError('--port must be an integer from 0 to 65535');
    const timeoutS = Number(values.timeout);
    if (!(timeoutS > 0)) throw new UsageError('--timeout must be a positive number of seconds');
    const dataDir = resolve(values['data-dir']);

    const running = runningDeployment(dataDir);
    if (running) {
      if (requestedPort !== undefined && requestedPort !== 0 && running.serviceUrl && new URL(running.serviceUrl).port !== String(requestedPort)) {
        process.stderr.write(`facepipe up: already running in ${dataDir} on ${running.serviceUrl}; to move it to port ${requestedPort}: facepipe down --data-dir ${dataDir}, then facepipe up --port ${requestedPort}\n`);
      }
      report(running, dataDir, 'already running');
      return 0;
    }
    const starting = readDeploymentRecord(dataDir);
    if (starting?.state === 'starting' && processAlive(starting.pid)) throw new UsageError(`a deployment is starting in ${dataDir} (pid ${starting.pid}); wait for it, or stop it with facepipe down`);

    // Owner-only before anything is written in it (exit 2 with the fix when others can read it).
    secureDataDir(dataDir);
    const full = await fullDisk(dataDir);
    if (full) {
      process.stderr.write(`facepipe up: ${full}\n`);
      return ExitCode.Failed;
    }

    let port: number;
    try {
      port = await claimServicePort(dataDir, requestedPort);
    } catch (err) {
      if (!(err instanceof PortInUseError)) throw err;
      process.stderr.write(`facepipe up: ${err.message}\n`);
      return ExitCode.Usage;
    }
    mkdirSync(join(dataDir, 'logs'), { recursive: true });
    const logFile = join(dataDir, 'logs', 'deployment.log');
    const log = openSync(logFile, 'a');
    const args = [mainScript, 'deployment-process', '--data-dir', dataDir, '--port', String(port)];
    for (const stage of ['detect', 'embed', 'classify'] as const) args.push(`--${stage}-workers`, values[`${stage}-workers`]);
    const child = spawn(process.execPath, args, { detached: true, stdio: ['ignore', log, log], env: process.env });
    closeSync(log);
    child.unref();
    let exited = false;
    child.once('exit', () => (exited = true));

    const deadline = Date.now() + timeoutS * 1000;
    for (;;) {
      const record = readDeploymentRecord(dataDir);
      if (record && record.pid === child.pid && record.state === 'ready') {
        report(record, dataDir, 'started');
        return 0;
      }
      if (record && record.pid === child.pid && record.state === 'failed') {
        process.stderr.write(`facepipe up: the deployment could not start: ${record.error}\n${tail(logFile)}`);
        return 1;
      }
      if (exited || !processAlive(child.pid ?? 0)) {
        process.stderr.write(`facepipe up: the deployment process exited while starting; end of ${logFile}:\n${tail(logFile)}`);
        return 1;
      }
      if (Date.now() > deadline) {
        process.stderr.write(`facepipe up: not ready after ${timeoutS} s; it goes on starting in the background (pid ${child.pid}); see ${logFile}, or stop it with facepipe down\n`);
        return 1;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  },
};

/**
 * Why a deployment cannot start on `dataDir`'s disk (less free than FACEPIPE_DISK_FULL_FREE_MB),
 * or undefined: started anyway, Redis, the S3 store and the database would fail one write after
 * another. The message says what to do.
 */
async function fullDisk(dataDir: string): Promise<string | undefined> {
  let fullFreeBytes = 16 * 1024 * 1024;
  try {
    fullFreeBytes = loadConfig(process.env).disk.fullFreeBytes;
  } catch {
    // Bad settings are reported by the deployment itself, with the full message.
  }
  const { freeBytes, totalBytes } = await freeSpace(dataDir);
  if (freeBytes > 0 && freeBytes >= fullFreeBytes) return undefined;
  const mib = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return (
    `the disk holding ${dataDir} is full: ${mib(freeBytes)} free of ${mib(totalBytes)}, under the ${mib(fullFreeBytes)} a deployment needs to start ` +
    `(FACEPIPE_DISK_FULL_FREE_MB). Free space there (old logs in ${join(dataDir, 'logs')}, other files on that disk) or use --data-dir on another disk, then run facepipe up again; nothing was started`
  );
}

function report(record: DeploymentRecord, dataDir: string, what: string): void {
  process.stdout.write(
    `facepipe up: local deployment ${what} in ${dataDir} (pid ${record.pid}; logs in ${join(dataDir, 'logs')})\n` +
      `dashboard: ${record.dashboardUrl}\n` +
      `api: ${record.serviceUrl} (token in ${join(dataDir, 'deployment.json')})\n` +
      `stop it with: facepipe down --data-dir ${dataDir}\n`,
  );
}

function tail(file: string, lines = 20): string {
  try {
    return `${readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n')}\n`;
  } catch {
    return '';
  }
}
