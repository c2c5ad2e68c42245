import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedS3 } from '@facepipe/devstack';

export interface TestS3 {
  endpoint: string;
  bucket: string;
  env: Record<string, string>;
  stop(): Promise<void>;
}

/**
 * Starts an S3-protocol server over HTTP on a free port with a fresh folder: s3rver by default
 * (an implementation independent of facepipe's), or facepipe's own embedded server.
 */
export async function startS3(bucket = 'facepipe-test', engine: 'local' | 's3rver' = 's3rver'): Promise<TestS3> {
  const dir = mkdtempSync(join(tmpdir(), 'facepipe-s3-'));
  const server = await startEmbeddedS3({ directory: dir, port: 0, engine });
  return {
    endpoint: server.endpoint,
    bucket,
    env: { ...server.env, S3_BUCKET: bucket, S3_REGION: 'us-east-1' },
    stop: async () => {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
