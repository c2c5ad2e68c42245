/** Options for {@link mapOrdered}. */
export interface MapOrderedOptions {
  /** Most `work` calls in flight at once. */
  readonly concurrency: number;
  /**
   * How far work may run ahead of the oldest result not yet emitted, in items, so a slow item
   * cannot make finished results pile up without bound. @defaultValue 4 × concurrency
   */
  readonly window?: number;
}

/**
 * Runs `work` over `items` with at most `concurrency` calls in flight and hands every result to
 * `emit` in input order (one `emit` at a time). With concurrency ≥ 2 the async parts of
 * different items overlap: one image decodes on libuv's thread pool while another is in the
 * inference worker. `work` is expected to turn per-item failures into results; a throw from
 * `work` or `emit` stops new work and is rethrown once the calls in flight have settled.
 */
export async function mapOrdered<T, R>(
  items: readonly T[],
  work: (item: T, index: number) => Promise<R>,
  emit: (result: R, index: number) => void | Promise<void>,
  options: MapOrderedOptions,
): Promise<void> {
  const concurrency = Math.max(1, Math.floor(options.concurrency));
  const window = Math.max(concurrency, Math.floor(options.window ?? concurrency * 4));
  const ready = new Map<number, R>();
  let next = 0;
  let emitted = 0;
  let failure: { error: unknown } | undefined;
  let waiters: (() => void)[] = [];
  let flushing: Promise<void> = Promise.resolve();

  const wakeAll = () => {
    const w = waiters;
    waiters = [];
    for (const resolve of w) resolve();
  };
  const flush = async () => {
    while (!failure && ready.has(emitted)) {
      const result = ready.get(emitted)!;
      ready.delete(emitted);
      await emit(result, emitted);
      emitted++;
      wakeAll();
    }
  };
  const worker = async () => {
    try {
      while (!failure && next < items.length) {
        if (next >= emitted + window) {
          await new Promise<void>((resolve) => waiters.push(resolve));
          continue;
        }
        const index = next++;
        ready.set(index, await work(items[index]!, index));
        flushing = flushing.then(flush);
        await flushing;
      }
    } catch (error) {
      failure ??= { error };
      wakeAll();
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  if (failure) throw failure.error;
}
