import { randomBytes } from 'node:crypto';
import { linkSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The secrets of a local deployment's embedded services, made once per data dir and kept in
 * `<data-dir>/credentials.json` (mode 0600): the password of the private Redis and the S3 key of
 * the embedded object store. The embedded database needs none: it listens only on a Unix socket
 * inside the 0700 data dir.
 */
export interface DeploymentCredentials {
  schema: 'facepipe.credentials/1';
  redisPassword: string;
  s3AccessKeyId: string;
  s3SecretAccessKey: string;
}

export const credentialsFileName = 'credentials.json';

/** Fresh random credentials (192 bits each, URL-safe). */
export function randomCredentials(): DeploymentCredentials {
  const secret = () => randomBytes(24).toString('hex');
  return { schema: 'facepipe.credentials/1', redisPassword: secret(), s3AccessKeyId: `facepipe-${randomBytes(6).toString('hex')}`, s3SecretAccessKey: secret() };
}

function read(path: string): DeploymentCredentials | undefined {
  try {
    const doc = JSON.parse(readFileSync(path, 'utf8')) as Partial<DeploymentCredentials>;
    const ok = doc.schema === 'facepipe.credentials/1' && [doc.redisPassword, doc.s3AccessKeyId, doc.s3SecretAccessKey].every((v) => typeof v === 'string' && /^[A-Za-z0-9_-]{16,}$/.test(v));
    return ok ? (doc as DeploymentCredentials) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The credentials of the deployment in `dataDir`: read from `credentials.json`, or made and
 * written there (0600) on the first start — also in a data dir left by an older facepipe that had
 * none. Two processes starting at once agree: the file is published with a link, which fails if
 * another got there first, and then that one's file is read.
 */
export function deploymentCredentials(dataDir: string): DeploymentCredentials {
  const path = join(dataDir, credentialsFileName);
  const existing = read(path);
  if (existing) return existing;
  const made = randomCredentials();
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(made, null, 2)}\n`, { mode: 0o600 });
  try {
    for (let attempt = 0; ; attempt += 1) {
      try {
        linkSync(tmp, path);
        return made;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw err;
      }
      const theirs = read(path);
      if (theirs) return theirs;
      rmSync(path, { force: true }); // unreadable or damaged: replaced
    }
  } finally {
    rmSync(tmp, { force: true });
  }
}
