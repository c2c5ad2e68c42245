import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { processAlive } from '@facepipe/core/light';

/** `<data-dir>/deployment.json`: how to reach a local deployment started by `facepipe up`. */
export interface DeploymentRecord {
  schema: 'facepipe.deployment/1';
  /** `starting` while parts come up, `ready` once every part answers, `failed` when the start failed. */
  state: 'starting' | 'ready' | 'failed';
  /** The process that runs the deployment (stopped by `facepipe down`). */
  pid: number;
  /** Child processes (workers, redis-server), stopped by `facepipe down` even if `pid` died. */
  childPids: number[];
  /** Settings that point any facepipe process at this deployment (REDIS_URL, S3_*, …). */
  env: Record<string, string>;
  /** The service's base URL, and the dashboard URL that signs a browser in. */
  serviceUrl?: string;
  dashboardUrl?: string;
  startedAt: string;
  /** Why the start failed (state `failed`). */
  error?: string;
}

export const deploymentFileName = 'deployment.json';

export function deploymentFilePath(dataDir: string): string {
  return join(dataDir, deploymentFileName);
}

/** The record in `dataDir`, or undefined when there is none (or it cannot be parsed). */
export function readDeploymentRecord(dataDir: string): DeploymentRecord | undefined {
  try {
    const record = JSON.parse(readFileSync(deploymentFilePath(dataDir), 'utf8')) as DeploymentRecord;
    return record.schema === 'facepipe.deployment/1' ? record : undefined;
  } catch {
    return undefined;
  }
}

/** Writes the record atomically, readable only by its owner (it holds the dashboard token). */
export function writeDeploymentRecord(dataDir: string, record: DeploymentRecord): void {
  const path = deploymentFilePath(dataDir);
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, path);
}

export function removeDeploymentRecord(dataDir: string): void {
  rmSync(deploymentFilePath(dataDir), { force: true });
}

/** Whether a process with this id exists (core's check, re-exported for the CLI and tests). */
export { processAlive };

/** The running, ready deployment of `dataDir`, if there is one. */
export function runningDeployment(dataDir: string): DeploymentRecord | undefined {
  const record = readDeploymentRecord(dataDir);
  return record && record.state === 'ready' && processAlive(record.pid) ? record : undefined;
}

/**
 * Thrown when a command needs a deployment and neither the environment nor the data dir names one.
 * `needs`: the setting that would name one (REDIS_URL for the queues, DATABASE_URL for the library).
 */
export class NoDeploymentError extends Error {
  constructor(
    readonly dataDir: string,
    needs: 'REDIS_URL' | 'DATABASE_URL' = 'REDIS_URL',
  ) {
    super(`no local deployment is running in ${dataDir} and ${needs} is not set: start one with \`facepipe up --data-dir ${dataDir}\`, or set ${needs === 'REDIS_URL' ? 'REDIS_URL and S3_ENDPOINT' : 'DATABASE_URL'} (docs/configuration.md)`);
    this.name = 'NoDeploymentError';
  }
}

/**
 * The environment a command uses to reach a deployment: the process environment when it names
 * one (REDIS_URL set), else the settings of the local deployment running in `dataDir`. Never
 * falls back to whatever Redis listens on 6379.
 */
export function deploymentEnvironment(dataDir: string, env: Record<string, string | undefined> = process.env): Record<string, string | undefined> {
  if (env.REDIS_URL) return env;
  const record = runningDeployment(dataDir);
  if (!record) throw new NoDeploymentError(dataDir);
  return { ...env, ...record.env };
}
