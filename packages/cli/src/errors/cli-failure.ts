import { ConfigError, FacepipeError } from '@facepipe/core/light';

/**
 * facepipe's exit codes (README, `facepipe --help`):
 * 0 done; 1 failed (an error the message explains); 2 wrong usage or configuration;
 * 3 Redis or S3 unreachable; 4 an input or output file missing or unreadable;
 * 5 the batch finished, but some of its inputs failed (their results say why).
 */
export const ExitCode = {
  Ok: 0,
  Failed: 1,
  Usage: 2,
  Unreachable: 3,
  File: 4,
  BatchHadFailures: 5,
} as const;

/** What the CLI prints and returns for an error: one line that names the fix, and the code. */
export interface CliFailure {
  message: string;
  exitCode: number;
  /** Whether the message is a complete explanation (no stack worth showing without --debug). */
  known: boolean;
}

const connectionCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE']);
const fileCodes: Record<string, string> = {
  ENOENT: 'no such file or folder',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  ENOTDIR: 'not a folder',
  EISDIR: 'is a folder, not a file',
  ELOOP: 'too many symbolic links',
  EMFILE: 'too many open files (raise ulimit -n)',
  ENOSPC: 'no space left on the device',
  EROFS: 'read-only file system',
};

/** An error and its chain of causes (and AggregateError members), breadth first, each once. */
function* errorChain(err: unknown): Generator<object> {
  const seen = new Set<unknown>();
  const queue: unknown[] = [err];
  while (queue.length > 0) {
    const e = queue.shift();
    if (!e || typeof e !== 'object' || seen.has(e)) continue;
    seen.add(e);
    yield e;
    queue.push((e as { cause?: unknown }).cause);
    if (e instanceof AggregateError) queue.push(...e.errors);
  }
}

/** The first system error code in an error's chain. */
function systemError(err: unknown): { code: string; path?: string; address?: string; port?: number; message: string } | undefined {
  for (const e of errorChain(err)) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && (connectionCodes.has(code) || code in fileCodes || code === 'EADDRINUSE' || code === 'EADDRNOTAVAIL')) {
      const { path, address, port, message } = e as { path?: string; address?: string; port?: number; message?: string };
      return { code, path, address, port, message: message ?? code };
    }
  }
  return undefined;
}

/** Which configured service listens on `port` (from REDIS_URL and S3_ENDPOINT), if either. */
function serviceAt(port: number | undefined, env: Record<string, string | undefined> = process.env): 'Redis' | 'S3' | undefined {
  if (port === undefined) return undefined;
  const portOf = (url: string | undefined, fallback: string) => {
    try {
      return url ? Number(new URL(url).port || fallback) : undefined;
    } catch {
      return undefined;
    }
  };
  if (portOf(env.REDIS_URL ?? 'redis://127.0.0.1:6379', '6379') === port) return 'Redis';
  if (portOf(env.S3_ENDPOINT, env.S3_ENDPOINT?.startsWith('https') ? '443' : '80') === port) return 'S3';
  return undefined;
}

/** Every message in an error's chain of causes (and AggregateError members). */
function messages(err: unknown): string[] {
  return [...errorChain(err)].map((e) => `${(e as { code?: unknown }).code ?? ''} ${(e as Error).name ?? ''} ${(e as Error).message ?? ''}`);
}

/**
 * A store that refused this process's credentials (Redis AUTH, the S3 signature, a database
 * password or socket permission): one line naming the setting to fix, or undefined.
 */
export function refusedCredentials(err: unknown): string | undefined {
  const text = messages(err).join('\n');
  if (/NOAUTH|WRONGPASS|invalid username-password|invalid password/i.test(text)) {
    return 'Redis refused the credentials (NOAUTH/WRONGPASS): REDIS_URL must carry the password, redis://default:<password>@host:port (a local deployment keeps it in <data-dir>/credentials.json; docs/configuration.md).';
  }
  if (/SignatureDoesNotMatch|InvalidAccessKeyId|AccessDenied|\b403\b.*(Forbidden|Access)/i.test(text)) {
    return 'S3 refused the credentials (403): check S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY (a local deployment keeps them in <data-dir>/credentials.json; docs/configuration.md).';
  }
  if (/\b28P01\b|\b28000\b|password authentication failed|no pg_hba\.conf entry/i.test(text)) {
    return 'the database refused the credentials: check the user and password in DATABASE_URL (docs/configuration.md).';
  }
  return undefined;
}

function isRedisError(err: unknown): boolean {
  const text = `${(err as Error)?.name ?? ''} ${(err as Error)?.message ?? ''}`;
  return /MaxRetriesPerRequest|Redis|Connection is closed|Stream isn't writeable/i.test(text);
}

/**
 * Turns anything a command threw into one line and an exit code. Usage and configuration errors
 * are handled by the caller (they also print the usage).
 */
export function describeFailure(err: unknown, command: string): CliFailure {
  if (err instanceof ConfigError) return { message: err.message, exitCode: ExitCode.Usage, known: true };
  const refused = refusedCredentials(err);
  if (refused) return { message: `facepipe ${command}: ${refused}`, exitCode: ExitCode.Usage, known: true };
  const sys = systemError(err);
  if (sys && connectionCodes.has(sys.code)) {
    const where = sys.address ? ` ${sys.address}${sys.port ? `:${sys.port}` : ''}` : '';
    const what = serviceAt(sys.port) ?? (isRedisError(err) || /redis/i.test(String((err as Error)?.message)) ? 'Redis' : 'Redis or S3');
    const settings = what === 'Redis' ? 'REDIS_URL' : what === 'S3' ? 'S3_ENDPOINT' : 'REDIS_URL and S3_ENDPOINT';
    return {
      message: `facepipe ${command}: cannot reach ${what}${where} (${sys.code}). Is the deployment running? Check ${settings} (docs/configuration.md).`,
      exitCode: ExitCode.Unreachable,
      known: true,
    };
  }
  if (sys && sys.code in fileCodes) {
    return { message: `facepipe ${command}: ${sys.path ?? 'file'}: ${fileCodes[sys.code]}`, exitCode: ExitCode.File, known: true };
  }
  if (sys && (sys.code === 'EADDRINUSE' || sys.code === 'EADDRNOTAVAIL')) {
    const where = sys.port !== undefined ? `port ${sys.port}` : 'the address';
    return {
      message: `facepipe ${command}: ${where} ${sys.code === 'EADDRINUSE' ? 'is in use' : 'is not available'}; choose another with FACEPIPE_HTTP_PORT (0 picks a free one) or stop what holds it.`,
      exitCode: ExitCode.Usage,
      known: true,
    };
  }
  const text = String((err as Error)?.message);
  if (isRedisError(err) && /max retries per request|MaxRetriesPerRequest|Connection is closed|cannot reach Redis/i.test(text)) {
    const what = /cannot reach Redis/i.test(text) ? 'cannot reach Redis' : 'lost the connection to Redis';
    return { message: `facepipe ${command}: ${what}. Is the deployment running? Check REDIS_URL (docs/configuration.md).`, exitCode: ExitCode.Unreachable, known: true };
  }
  if (err instanceof FacepipeError) {
    const exitCode = err.code === 'STORAGE_UNAVAILABLE' ? ExitCode.Unreachable : ExitCode.Failed;
    const hint = err.code === 'STORAGE_UNAVAILABLE' ? ' Check S3_ENDPOINT, S3_BUCKET and the S3 credentials (docs/configuration.md).' : '';
    return { message: `facepipe ${command}: [${err.code}] ${err.message}${hint}`, exitCode, known: true };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { message: `facepipe ${command}: ${message}`, exitCode: ExitCode.Failed, known: false };
}
