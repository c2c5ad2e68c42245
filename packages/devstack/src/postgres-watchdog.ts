/**
 * Started by LocalPostgres in its own session, with a pipe from the process that started the
 * server on stdin. When that pipe closes without the word `stopped` (the owner died: killed,
 * crashed, or its process group killed by a test runner), the server is stopped at once and its
 * folder removed, so no private PostgreSQL outlives the process that wanted it.
 */
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';

let received = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk: string) => {
  received += chunk;
});
process.stdin.on('end', () => {
  if (received.includes('stopped')) return;
  const pgCtl = process.env.FACEPIPE_PG_CTL ?? '';
  const data = process.env.FACEPIPE_PG_DATA ?? '';
  const user = process.env.FACEPIPE_PG_USER ?? '';
  const args = ['stop', '-D', data, '-m', 'immediate', '-w', '-t', '30'];
  try {
    if (user) execFileSync('/usr/bin/setpriv', ['--reuid', user, '--regid', user, '--init-groups', '--', pgCtl, ...args], { stdio: 'ignore' });
    else execFileSync(pgCtl, args, { stdio: 'ignore' });
  } catch {
    // Not running (never started, or stopped already).
  }
  const remove = process.env.FACEPIPE_PG_REMOVE;
  if (remove) rmSync(remove, { recursive: true, force: true });
});
