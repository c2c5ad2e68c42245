import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
/** The built `facepipe` entry point. */
export const cliEntry = join(root, 'packages/cli/dist/main.js');

/**
 * The environment of a fresh shell: no REDIS_URL, S3_*, DATABASE_URL or FACEPIPE_* settings, so
 * commands use (or find) the embedded local deployment. `extra` is added on top.
 */
export function freshShellEnv(extra: Record<string, string> = {}): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = { ...process.env };
  for (const key of Object.keys(env)) if (/^(REDIS_URL|S3_|FACEPIPE_|DATABASE_URL)/.test(key)) delete env[key];
  return { ...env, ...extra };
}

/** Runs `facepipe <args>` as a process in `cwd` and collects its output. */
export function runCli(args: string[], options: { cwd: string; env?: Record<string, string | undefined> }): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cliEntry, ...args], { cwd: options.cwd, env: (options.env ?? freshShellEnv()) as NodeJS.ProcessEnv });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}
