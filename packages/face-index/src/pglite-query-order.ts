import type { PGLiteSocketServer } from '@electric-sql/pglite-socket';

/** The shape of pglite-socket's (unexported) query queue this relies on. */
interface QueuedMessage {
  handlerId: number;
  message: Uint8Array;
  onData: (data: Uint8Array) => void;
  resolve: (bytes: number) => void;
  reject: (err: unknown) => void;
}
interface QueryQueue {
  queue: QueuedMessage[];
  processing: boolean;
  lastHandlerId: number | null;
  db: { isInTransaction(): boolean; runExclusive<T>(fn: () => Promise<T>): Promise<T>; execProtocolRawStream(message: Uint8Array, options: { onRawData: (data: Uint8Array) => void }): Promise<unknown> };
  processQueue(): Promise<void>;
  clearTransactionIfNeeded(handlerId: number): Promise<void>;
}

/** Extended-protocol messages that leave a query unfinished until the client's Sync (Parse, Bind, Describe, Execute, Close, Flush). */
const unfinished = new Set(['P', 'B', 'D', 'E', 'C', 'H'].map((c) => c.charCodeAt(0)));

/**
 * Makes the socket server run each client's extended-protocol query (Parse … Sync) as one unit.
 * pglite-socket multiplexes connections onto the one PGlite session message by message and keeps
 * a connection to itself only inside a transaction: outside one, two connections' Parse/Bind
 * interleave, and one binds the other's unnamed statement ("unnamed prepared statement does not
 * exist", or another query's rows). Here the connection that sent a Parse, Bind… keeps the
 * session until its Sync, as inside a transaction. A connection that goes away mid-query
 * releases it.
 */
export function keepExtendedQueriesWhole(server: PGLiteSocketServer): void {
  const q = (server as unknown as { queryQueue: QueryQueue }).queryQueue;
  let midQuery = false;
  q.processQueue = async function processQueue(this: QueryQueue): Promise<void> {
    if (this.processing || this.queue.length === 0) return;
    this.processing = true;
    while (this.queue.length > 0) {
      let item: QueuedMessage | undefined;
      if ((midQuery || this.db.isInTransaction()) && this.lastHandlerId !== null) {
        const i = this.queue.findIndex((m) => m.handlerId === this.lastHandlerId);
        // The connection holding the session has nothing queued yet: wait for it.
        item = i === -1 ? undefined : this.queue.splice(i, 1)[0];
      } else item = this.queue.shift();
      if (!item) break;
      const current = item;
      let bytes = 0;
      try {
        await this.db.runExclusive(() => this.db.execProtocolRawStream(current.message, { onRawData: (data) => ((bytes += data.length), current.onData(data)) }));
      } catch (err) {
        current.reject(err);
        midQuery = false;
        this.processing = false;
        return;
      }
      midQuery = unfinished.has(current.message[0] ?? 0);
      this.lastHandlerId = current.handlerId;
      current.resolve(bytes);
    }
    this.processing = false;
  };
  const clear = q.clearTransactionIfNeeded.bind(q);
  q.clearTransactionIfNeeded = async function clearTransactionIfNeeded(this: QueryQueue, handlerId: number): Promise<void> {
    if (midQuery && this.lastHandlerId === handlerId) {
      midQuery = false;
      if (!this.db.isInTransaction()) {
        this.lastHandlerId = null;
        await this.processQueue();
        return;
      }
    }
    await clear(handlerId);
  };
}
