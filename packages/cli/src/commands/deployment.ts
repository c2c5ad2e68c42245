import { resolve } from 'node:path';
import { loadConfig } from '@facepipe/core';
import { deploymentEnvironment } from '@facepipe/devstack';
import { Producer } from '@facepipe/producer';
import { routeCommandLogs } from '../ui/log-routing.js';

/** The `--data-dir` option every command that talks to a deployment takes. */
export const dataDirOption = { 'data-dir': { type: 'string', default: '.facepipe' } } as const;

export const dataDirUsage = `  --data-dir <dir>      the local deployment to use when REDIS_URL is not set (default ./.facepipe;
                        started with \`facepipe up\`)`;

/**
 * Connects to the deployment the environment names (REDIS_URL, S3_*), or else to the local
 * deployment running in `dataDir` (`facepipe up`); never to whatever Redis listens on 6379.
 */
export async function connectProducer(service: string, dataDir = '.facepipe'): Promise<Producer> {
  const config = loadConfig(deploymentEnvironment(resolve(dataDir)));
  routeCommandLogs(resolve(dataDir));
  return Producer.connect(config, service);
}

/** The settings of the deployment a command talks to (the environment, or `facepipe up`'s in `dataDir`). */
export function deploymentEnv(dataDir = '.facepipe'): Record<string, string | undefined> {
  return deploymentEnvironment(resolve(dataDir));
}

/** Runs `fn` with a connected producer and always closes it. */
export async function withProducer<T>(service: string, fn: (producer: Producer) => Promise<T>, options: { dataDir?: string } = {}): Promise<T> {
  const producer = await connectProducer(service, options.dataDir);
  try {
    return await fn(producer);
  } finally {
    await producer.close();
  }
}
