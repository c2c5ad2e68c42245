/**
 * Tries every store of a running local deployment the way another local user could, knowing
 * only what is visible from outside (ports, paths, the access key id), and prints one JSON object
 * with what each answered. Run as another user (setpriv) by test/e2e/owner-only-deployment.test.ts.
 * The Redis URL given is the deployment's without its password (only the port is used).
 * Usage: node --import tsx test/helpers/probe-deployment-stores.ts <data-dir> <redis-url> <s3-endpoint> <s3-key-id> <database-url>
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from 'node:net';
import pg from 'pg';
import { EMPTY_PAYLOAD_SHA256, SigV4Signer } from '@facepipe/core';

export interface StoreProbe {
  /** What Redis answered a PING without the password, and with a guessed one. */
  redisNoPassword: string;
  redisWrongPassword: string;
  /** The error code of connecting to the database (its socket in the data dir). */
  database: string;
  /** Status and S3 error code of an unsigned list, a forged-signature list and a forged PUT. */
  s3Unsigned: { status: number; code: string | undefined };
  s3Forged: { status: number; code: string | undefined };
  s3ForgedPut: { status: number; code: string | undefined };
  /** The error codes of listing the data dir and reading its files. */
  files: Record<string, string>;
}

const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** Sends one command in Redis's inline protocol and returns the first reply line. */
function redisAnswer(port: number, command: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(`${command}\r\n`));
    let reply = '';
    socket.setTimeout(5000, () => socket.destroy(new Error('timeout')));
    socket.on('data', (chunk) => {
      reply += chunk.toString();
      if (reply.includes('\r\n')) {
        socket.destroy();
        resolve(reply.split('\r\n')[0]!);
      }
    });
    socket.on('error', (err) => resolve(errorText(err)));
  });
}

async function s3Answer(url: URL, method: string, headers: Record<string, string>, body?: string): Promise<{ status: number; code: string | undefined }> {
  const res = await fetch(url, { method, headers, body });
  return { status: res.status, code: /<Code>([^<]+)<\/Code>/.exec(await res.text())?.[1] };
}

export async function probeStores(dataDir: string, redisUrl: string, s3Endpoint: string, s3KeyId: string, databaseUrl: string): Promise<StoreProbe> {
  const redisPort = Number(new URL(redisUrl).port);

  let database: string;
  const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
    database = `connected: ${JSON.stringify((await client.query('select count(*) from faces')).rows)}`;
  } catch (err) {
    database = (err as NodeJS.ErrnoException).code ?? errorText(err);
  } finally {
    await client.end().catch(() => undefined);
  }

  // Signed as facepipe's own client would, with the real access key id and a made-up secret,
  // then with the signature replaced outright (the issue's `Signature=deadbeef`).
  const signer = new SigV4Signer({ region: 'us-east-1' });
  const list = new URL(`${s3Endpoint}/facepipe?list-type=2`);
  const forged = signer.sign({ method: 'GET', host: list.host, path: list.pathname, query: { 'list-type': '2' }, payloadHash: EMPTY_PAYLOAD_SHA256 }, { accessKeyId: s3KeyId, secretAccessKey: 'guessed' });
  const put = new URL(`${s3Endpoint}/facepipe/planted.jpg`);
  const forgedPut = signer.sign({ method: 'PUT', host: put.host, path: put.pathname, payloadHash: 'UNSIGNED-PAYLOAD' }, { accessKeyId: s3KeyId, secretAccessKey: 'guessed' });
  forgedPut.authorization = forgedPut.authorization!.replace(/Signature=\w+/, 'Signature=deadbeef');

  const files: Record<string, string> = {};
  const attempt = (name: string, fn: () => unknown) => {
    try {
      fn();
      files[name] = 'read';
    } catch (err) {
      files[name] = (err as NodeJS.ErrnoException).code ?? errorText(err);
    }
  };
  attempt('list data dir', () => readdirSync(dataDir));
  for (const file of ['deployment.json', 'credentials.json', 'token', 'db', 's3', 'redis']) {
    attempt(file, () => (file.includes('.') || file === 'token' ? readFileSync(join(dataDir, file)) : readdirSync(join(dataDir, file))));
  }

  return {
    redisNoPassword: await redisAnswer(redisPort, 'PING'),
    redisWrongPassword: await redisAnswer(redisPort, 'AUTH default facepipe'),
    database,
    s3Unsigned: await s3Answer(list, 'GET', {}),
    s3Forged: await s3Answer(list, 'GET', forged),
    s3ForgedPut: await s3Answer(put, 'PUT', forgedPut, 'not a photo'),
    files,
  };
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  const [dataDir, redisUrl, s3Endpoint, s3KeyId, databaseUrl] = process.argv.slice(2);
  if (!dataDir || !redisUrl || !s3Endpoint || !s3KeyId || !databaseUrl) {
    process.stderr.write('usage: probe-deployment-stores.ts <data-dir> <redis-url> <s3-endpoint> <s3-key-id> <database-url>\n');
    process.exit(2);
  }
  process.stdout.write(`${JSON.stringify(await probeStores(dataDir, redisUrl, s3Endpoint, s3KeyId, databaseUrl))}\n`);
}
