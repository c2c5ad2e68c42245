import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { LogFile, setProcessLogSink } from '@facepipe/core';
import { LocalDeployment, removeDeploymentRecord, writeDeploymentRecord, type DeploymentRecord } from '@facepipe/devstack';
import type { Command } from './command.js';
import { parseWorkerCounts, workerCountOptions } from './worker-counts.js';

/**
 * The background process of `facepipe up` (not for direct use): runs a {@link LocalDeployment},
 * records how to reach it in <data-dir>/deployment.json, and stops it on SIGTERM/SIGINT.
 */
export const deploymentProcessCommand: Command = {
  name: 'deployment-process',
  summary: '(internal) the background process of facepipe up',
  usage: 'facepipe deployment-process --data-dir <dir> [--port <n>] [--detect-workers <n> …]   (started by facepipe up)',
  async run(argv) {
    const { values } = parseArgs({ args: argv, options: { 'data-dir': { type: 'string', default: '.facepipe' }, port: { type: 'string', default: '0' }, ...workerCountOptions } });
    const dataDir = resolve(values['data-dir']);
    // stderr is <data-dir>/logs/deployment.log: on a full disk its lines are dropped and counted,
    // never an unhandled 'error' event that would take Redis's parent, S3, the database and the
    // service down with this process.
    const log = new LogFile(2);
    process.stderr.on('error', () => undefined);
    process.stdout.on('error', () => undefined);
    setProcessLogSink((line) => log.writeLine(line));
    const say = (text: string) => log.writeLine(text.replace(/\n$/, ''));
    const startedAt = new Date().toISOString();
    const base: DeploymentRecord = { schema: 'facepipe.deployment/1', state: 'starting', pid: process.pid, childPids: [], env: {}, startedAt };
    writeDeploymentRecord(dataDir, base);
    let deployment: LocalDeployment;
    try {
      deployment = await LocalDeployment.start({ dataDir, workers: parseWorkerCounts(values), persistentRedis: true, servicePort: Number(values.port), token: deploymentToken(dataDir), logLevel: 'info' });
    } catch (err) {
      writeDeploymentRecord(dataDir, { ...base, state: 'failed', error: err instanceof Error ? err.message : String(err) });
      say(`deployment failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      return 1;
    }
    writeDeploymentRecord(dataDir, {
      ...base,
      state: 'ready',
      childPids: deployment.childPids,
      env: deployment.env,
      serviceUrl: deployment.service.url,
      dashboardUrl: deployment.dashboardUrl,
    });
    say(`deployment ready: ${deployment.stack.describe}; service at ${deployment.service.url}`);
    await new Promise<void>((done) => {
      let stopping = false;
      const onSignal = (signal: NodeJS.Signals) => {
        if (stopping) return;
        stopping = true;
        say(`${signal}: stopping the deployment`);
        void deployment.stop().finally(done);
      };
      process.on('SIGTERM', onSignal);
      process.on('SIGINT', onSignal);
    });
    removeDeploymentRecord(dataDir);
    say('deployment stopped');
    return 0;
  },
};

/** The dashboard/API token of this data dir: made once, kept in <data-dir>/token (owner-only). */
function deploymentToken(dataDir: string): string {
  const path = join(dataDir, 'token');
  if (existsSync(path)) {
    const token = readFileSync(path, 'utf8').trim();
    if (token.length >= 16) return token;
  }
  const token = randomBytes(24).toString('hex');
  writeFileSync(path, `${token}\n`, { mode: 0o600 });
  return token;
}
