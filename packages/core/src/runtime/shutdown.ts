import type { Logger } from '../logging/index.js';
import { processAlive } from './process-alive.js';

/**
 * Two-stage shutdown: the first SIGTERM/SIGINT runs `graceful` (stop taking jobs, let active ones
 * finish, close connections) and exits 0; a second signal, or `graceful` outlasting
 * `forceAfterMs`, runs `force` and exits 1.
 */
export function installShutdown(options: {
  log: Logger;
  graceful: () => Promise<void>;
  force: () => Promise<void>;
  /** @defaultValue 60000 */
  forceAfterMs?: number;
}): void {
  let stage = 0;
  const forceExit = async (reason: string) => {
    options.log.warn('forcing shutdown', { reason });
    // Forced means bounded: a close that waits on something gone (Redis, a model thread) must not keep the process.
    const bound = new Promise((resolve) => setTimeout(resolve, 5000).unref());
    await Promise.race([options.force().catch(() => undefined), bound]);
    process.exit(1);
  };
  const onSignal = (signal: NodeJS.Signals) => {
    stage += 1;
    if (stage > 1) {
      void forceExit(`second ${signal}`);
      return;
    }
    options.log.info('shutting down: finishing active jobs', { signal });
    const timer = setTimeout(() => void forceExit('graceful shutdown timed out'), options.forceAfterMs ?? 60_000);
    timer.unref();
    options.graceful().then(
      () => {
        options.log.info('stopped');
        process.exit(0);
      },
      (err: unknown) => {
        options.log.error('graceful shutdown failed', { err });
        void forceExit('graceful shutdown failed');
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

/**
 * Stops this process (SIGTERM to itself: the graceful path, then after 5 intervals a second
 * SIGTERM: the forced one) once the process named by FACEPIPE_PARENT_PID is gone — a local deployment killed with -9 takes its workers with it
 * instead of leaving them as orphans. Polls every `intervalMs`; does nothing without the variable.
 */
export function watchParent(log: Logger, env: Record<string, string | undefined> = process.env, intervalMs = 1000): () => void {
  const parent = Number(env.FACEPIPE_PARENT_PID);
  if (!Number.isInteger(parent) || parent <= 1) return () => undefined;
  // Once the parent is gone the ends of our stdout/stderr pipes are closed: a log write must not
  // turn the graceful stop into a crash.
  const ignore = () => undefined;
  const timer = setInterval(() => {
    if (process.ppid === parent && processAlive(parent)) return;
    clearInterval(timer);
    process.stdout.on('error', ignore);
    process.stderr.on('error', ignore);
    log.warn('the deployment process that started this worker is gone; stopping', { parentPid: parent });
    process.kill(process.pid, 'SIGTERM');
    // The deployment's Redis went with it, so active jobs may never be able to finish: after a
    // short grace the second signal takes the forced path (their locks lapse; nothing is lost).
    setTimeout(() => process.kill(process.pid, 'SIGTERM'), 5 * intervalMs).unref();
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
