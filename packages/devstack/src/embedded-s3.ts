import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Readable } from 'node:stream';
import S3rver from 's3rver';
import { EMPTY_PAYLOAD_SHA256, SigV4Signer } from '@facepipe/core';
import { LocalS3Server } from './local-s3-server.js';

export interface EmbeddedS3Options {
  /** Folder the objects are stored under (created when missing). */
  directory: string;
  /** TCP port; 0 picks a free one. @defaultValue 0 */
  port?: number;
  /** Address to listen on (facepipe's own server only; s3rver always uses loopback). @defaultValue 127.0.0.1 */
  host?: string;
  /** Buckets to create at start. @defaultValue [] */
  buckets?: string[];
  /**
   * Which S3-protocol server: facepipe's own small file-backed server (fast), or the s3rver
   * package (an independent implementation, used by the integration tests).
   * @defaultValue 'local'
   */
  engine?: 'local' | 's3rver';
  /**
   * The secret requests must be signed with (facepipe's own server; s3rver has fixed ones).
   * @defaultValue a random one for this start
   */
  secretAccessKey?: string;
  /** The access key id (facepipe's own server). @defaultValue "facepipe" */
  accessKeyId?: string;
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
 * s3rver writes an object in place and answers the PUT before the bytes are on disk, so a reader
 * can get half of an object — even after the PUT returned. S3 replaces objects atomically with
 * read-after-write consistency, and facepipe relies on it; this makes s3rver's store do the same:
 * the whole body is written aside, renamed into place, and only then is its metadata written.
 */
function makePutsAtomic(server: S3rver): void {
  const store = server.store;
  let written = 0;
  store.putObject = async (object) => {
    const content = Buffer.isBuffer(object.content) ? object.content : await readAll(object.content);
    const objectPath = store.getResourcePath(object.bucket, object.key, 'object');
    const tmp = `${objectPath}.${process.pid}.${(written += 1)}.tmp`;
    await mkdir(dirname(objectPath), { recursive: true });
    await writeFile(tmp, content);
    await rename(tmp, objectPath);
    const md5 = createHash('md5').update(content).digest('hex');
    await store.putMetadata(object.bucket, object.key, object.metadata, md5);
    return { size: content.length, md5 };
  };
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * Starts an S3-protocol server over HTTP inside this process, storing objects as files: the
 * default object store of `facepipe run`, and the S3 of the integration tests. Clients use the
 * real AWS SDK against it, path-style.
 */
export async function startEmbeddedS3(options: EmbeddedS3Options): Promise<EmbeddedS3> {
  mkdirSync(options.directory, { recursive: true, mode: 0o700 });
  if ((options.engine ?? 'local') === 'local') {
    const server = new LocalS3Server({
      directory: options.directory,
      ...(options.accessKeyId ? { accessKeyId: options.accessKeyId } : {}),
      ...(options.secretAccessKey ? { secretAccessKey: options.secretAccessKey } : {}),
    });
    const endpoint = await server.start(options.port ?? 0, options.host);
    const signer = new SigV4Signer({ region: 'us-east-1' });
    for (const bucket of options.buckets ?? []) {
      const url = new URL(`${endpoint}/${bucket}`);
      const headers = signer.sign({ method: 'PUT', host: url.host, path: url.pathname, payloadHash: EMPTY_PAYLOAD_SHA256 }, server);
      const res = await fetch(url, { method: 'PUT', headers });
      if (!res.ok) throw new Error(`could not create bucket ${bucket} on the embedded S3 server: HTTP ${res.status} ${await res.text()}`);
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
  makePutsAtomic(server);
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
