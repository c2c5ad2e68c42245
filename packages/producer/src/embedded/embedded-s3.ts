import { mkdirSync } from 'node:fs';
import S3rver from 's3rver';
import { LocalS3Server } from './local-s3-server.js';

export interface EmbeddedS3Options {
  /** Folder the objects are stored under (created when missing). */
  directory: string;
  /** TCP port; 0 picks a free one. @defaultValue 0 */
  port?: number;
  /** Buckets to create at start. @defaultValue [] */
  buckets?: string[];
  /**
   * Which S3-protocol server: facepipe's own small file-backed server (fast), or the s3rver
   * package (an independent implementation, used by the integration tests).
   * @defaultValue 'local'
   */
  engine?: 'local' | 's3rver';
}

export interface EmbeddedS3 {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** The settings that point a facepipe process at this server (S3_ENDPOINT, keys, path style). */
  env: Record<'S3_ENDPOINT' | 'S3_ACCESS_KEY_ID' | 'S3_SECRET_ACCESS_KEY' | 'S3_FORCE_PATH_STYLE', string>;
  close(): Promise<void>;
}

function settingsFor(endpoint: string, accessKeyId: string, secretAccessKey: string): EmbeddedS3['env'] {
  return { S3_ENDPOINT: endpoint, S3_ACCESS_KEY_ID: accessKeyId, S3_SECRET_ACCESS_KEY: secretAccessKey, S3_FORCE_PATH_STYLE: 'true' };
}

/**
 * Starts an S3-protocol server over HTTP inside this process, storing objects as files: the
 * default object store of `facepipe run`, and the S3 of the integration tests. Clients use the
 * real AWS SDK against it, path-style.
 */
export async function startEmbeddedS3(options: EmbeddedS3Options): Promise<EmbeddedS3> {
  mkdirSync(options.directory, { recursive: true });
  if ((options.engine ?? 'local') === 'local') {
    const server = new LocalS3Server({ directory: options.directory });
    const endpoint = await server.start(options.port ?? 0);
    for (const bucket of options.buckets ?? []) {
      await fetch(`${endpoint}/${bucket}`, { method: 'PUT', headers: { authorization: `AWS4-HMAC-SHA256 Credential=${server.accessKeyId}/` } });
    }
    return {
      endpoint,
      accessKeyId: server.accessKeyId,
      secretAccessKey: server.secretAccessKey,
      env: settingsFor(endpoint, server.accessKeyId, server.secretAccessKey),
      close: () => server.close(),
    };
  }
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
  const endpoint = `http://127.0.0.1:${address.port}`;
  return {
    endpoint,
    // s3rver accepts these fixed credentials.
    accessKeyId: 'S3RVER',
    secretAccessKey: 'S3RVER',
    env: settingsFor(endpoint, 'S3RVER', 'S3RVER'),
    close: () => {
      closed ??= server.close();
      return closed;
    },
  };
}
