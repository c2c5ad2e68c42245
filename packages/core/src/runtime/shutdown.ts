import type { Logger } from '../logging/index.js';

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
    await options.force().catch(() => undefined);
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
