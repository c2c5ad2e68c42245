const signalNumbers = { SIGINT: 2, SIGTERM: 15 } as const;

/**
 * Ctrl-C (and SIGTERM) for a command that follows work that goes on elsewhere: the first signal
 * says `message()` on stderr (what goes on, and how to follow it), runs `cleanup` and exits with
 * 128 + the signal's number; a second one exits at once, whatever `cleanup` is doing.
 * `dispose()` puts the default handling back once the command is done.
 */
export function onInterrupt(message: () => string, cleanup: () => Promise<unknown>): { dispose(): void } {
  let signalled = false;
  const handler = (signal: keyof typeof signalNumbers) => {
    const code = 128 + signalNumbers[signal];
    if (signalled) process.exit(code);
    signalled = true;
    process.stderr.write(`${message()}\n`);
    void cleanup()
      .catch(() => undefined)
      .finally(() => process.exit(code));
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    dispose() {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}
