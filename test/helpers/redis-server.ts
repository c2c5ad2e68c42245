import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalRedis } from '@facepipe/devstack';

export interface TestRedis {
  url: string;
  port: number;
  stop(): Promise<void>;
}

/** A private redis-server on a free port for one test file (never the machine's shared Redis). */
export async function startRedis(): Promise<TestRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'facepipe-redis-'));
  const redis = await startLocalRedis({ directory: dir });
  return {
    url: redis.url,
    port: redis.port,
    stop: async () => {
      await redis.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
