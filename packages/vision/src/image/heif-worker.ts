/** Worker thread of `HeifDecodePool`: decodes one HEIF file per message, replies with RGB or a typed error. */
import { parentPort } from 'node:worker_threads';
import { FacepipeError } from '@facepipe/core';
import { decodeHeifPrimary } from './heif-libheif.js';
import type { HeifDecodeReply, HeifDecodeRequest } from './heif-protocol.js';

const port = parentPort;
if (!port) throw new Error('heif-worker must run in a worker thread');

port.on('message', (request: HeifDecodeRequest) => {
  void (async () => {
    let reply: HeifDecodeReply;
    try {
      const image = await decodeHeifPrimary(request.bytes, request.maxPixels, request.background);
      reply = { id: request.id, ok: true, ...image };
    } catch (err) {
      const error = FacepipeError.from(err, 'CORRUPT_IMAGE');
      reply = { id: request.id, ok: false, code: error.code, message: error.message };
    }
    port.postMessage(reply, reply.ok ? [reply.data.buffer as ArrayBuffer] : []);
  })();
});
