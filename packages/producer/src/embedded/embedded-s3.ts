import { mkdirSync } from 'node:fs';
import S3rver from 's3rver';

export interface EmbeddedS3Options {
  /** Folder the objects are stored under (created when missing). */
  directory: string;
  /** TCP port; 0 picks a free one. @defaultValue 0 */
  port?: number;
  /** Buckets to create at start. @defaultValue [] */
  buckets?: string[];
}

export interface EmbeddedS3 {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  close(): Promise<void>;
}

/**
 * Starts s3rver, an S3-protocol server over HTTP that stores objects as files, inside this
 * process: the default object store of `facepipe run` and of the integration tests. Clients use
 * the real AWS SDK against it, path-style.
 */
export async function startEmbeddedS3(options: EmbeddedS3Options): Promise<EmbeddedS3> {
  mkdirSync(options.directory, { recursive: true });
  const server = new S3rver({
    address: '127.0.0.1',
    port: options.port ?? 0,
    silent: process.env.FACEPIPE_S3RVER_VERBOSE !== '1',
    directory: options.directory,
    vhostBuckets: false,
    configureBuckets: (options.buckets ?? []).map((name) => ({ name })),
  });
  const address = await server.run();
  let closed: Promise<void> | undefined;
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    // s3rver accepts these fixed credentials.
    accessKeyId: 'S3RVER',
    secretAccessKey: 'S3RVER',
    close: () => {
      closed ??= server.close();
      return closed;
    },
  };
}
