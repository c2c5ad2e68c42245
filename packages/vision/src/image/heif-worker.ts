/** Worker thread of `HeifDecodePool`: decodes one HEIF file per message, replies with RGB or a typed error. */
import { parentPort } from 'node:worker_threads';
import { FacepipeError } from '@facepipe/core/light';
import { decodeHeifPrimary } from './heif-libheif.js';
import type { HeifDecodeReply, HeifDecodeRequest } from './heif-protocol.js';

const port = parentPort;
if (!port) throw new Error('heif-worker must run in a worker thread');

port.on('message', (request: HeifDecodeRequest) => {
  void (async () => {
    let reply: HeifDecodeReply;
    let crashed = false;
    try {
      const image = await decodeHeifPrimary(request.bytes, request.maxPixels, request.background);
      reply = { id: request.id, ok: true, ...image };
    } catch (err) {
      // Anything but a typed error came from inside the WebAssembly module (an abort or an
      // out-of-bounds access on a malformed file), which leaves it unusable: fail this file and
      // stop, so the pool starts a fresh thread for the files behind it.
      crashed = !(err instanceof FacepipeError);
      const error = FacepipeError.from(err, 'CORRUPT_IMAGE');
      reply = { id: request.id, ok: false, code: error.code, message: crashed ? `heic could not be decoded: ${error.message}` : error.message };
    }
    port.postMessage(reply, reply.ok ? [reply.data.buffer as ArrayBuffer] : []);
    if (crashed) process.exit(1);
  })();
});
