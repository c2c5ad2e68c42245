import { Worker } from 'node:worker_threads';
import { FacepipeError } from '@facepipe/core/light';
import type { HeifDecodeReply, HeifDecodeRequest } from './heif-protocol.js';
import type { FlattenBackground } from './types.js';

/** The compiled worker sits next to this file; under tsx (src) the .ts sibling is used. */
const workerUrl = new URL(import.meta.url.endsWith('.ts') ? './heif-worker.ts' : './heif-worker.js', import.meta.url);

interface Pending {
  request: HeifDecodeRequest;
  /** Threads that stopped while this request was queued in them. */
  crashes: number;
  resolve: (image: { width: number; height: number; data: Uint8Array; hadAlpha: boolean }) => void;
  reject: (err: FacepipeError) => void;
}

/**
 * Runs HEIF decoding (WebAssembly, synchronous) in one worker thread so it never blocks the
 * caller's event loop. Requests queue in the worker. The thread starts on first use, is
 * unreferenced while idle (a process may exit without closing it), and is started afresh after
 * it stops (the worker fails the file that broke its WebAssembly module and exits); requests
 * still queued in it are sent to the new thread, and one caught in two stopped threads fails
 * with CORRUPT_IMAGE (the file is then the likely cause).
 */
export class HeifDecodePool {
  #worker: Worker | undefined;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  #closing: Promise<void> | undefined;

  decode(bytes: Uint8Array, maxPixels: number, background: FlattenBackground): Promise<{ width: number; height: number; data: Uint8Array; hadAlpha: boolean }> {
    if (this.#closing) return Promise.reject(new FacepipeError('INTERNAL', 'the HEIF decoder is closed'));
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const pending: Pending = { request: { id, bytes, maxPixels, background }, crashes: 0, resolve, reject };
      this.#pending.set(id, pending);
      this.#send(pending);
    });
  }

  #send(pending: Pending): void {
    const worker = this.#start();
    worker.ref();
    worker.postMessage(pending.request);
  }

  #start(): Worker {
    if (this.#worker) return this.#worker;
    const worker = new Worker(workerUrl, { name: 'facepipe-heif' });
    worker.unref();
    worker.on('message', (reply: HeifDecodeReply) => {
      const pending = this.#pending.get(reply.id);
      if (!pending) return;
      this.#pending.delete(reply.id);
      if (this.#pending.size === 0) worker.unref();
      if (reply.ok) pending.resolve({ width: reply.width, height: reply.height, data: reply.data, hadAlpha: reply.hadAlpha });
      else pending.reject(new FacepipeError(reply.code, reply.message));
    });
    const fail = (reason: string) => {
      if (this.#worker !== worker) return;
      this.#worker = undefined;
      for (const [id, p] of this.#pending) {
        p.crashes += 1;
        if (p.crashes < 2 && !this.#closing) continue;
        this.#pending.delete(id);
        p.reject(new FacepipeError('CORRUPT_IMAGE', `the HEIF decoder stopped twice with this file queued (${reason})`));
      }
      for (const p of this.#pending.values()) this.#send(p);
    };
    worker.on('error', (err) => fail(err.message));
    worker.on('exit', (code) => fail(`exit code ${code}`));
    this.#worker = worker;
    return worker;
  }

  /** Stops the thread; pending decodes fail. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      const worker = this.#worker;
      this.#worker = undefined;
      for (const p of this.#pending.values()) p.reject(new FacepipeError('INTERNAL', 'the HEIF decoder was closed'));
      this.#pending.clear();
      if (worker) await worker.terminate();
    })();
    return this.#closing;
  }
}

let shared: HeifDecodePool | undefined;

/** The process's HEIF decode thread (created on first use). */
export function sharedHeifDecodePool(): HeifDecodePool {
  shared ??= new HeifDecodePool();
  return shared;
}
