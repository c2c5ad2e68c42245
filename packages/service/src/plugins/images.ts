import { Readable } from 'node:stream';
import { FacepipeError, objectKeys, type ResultDocument } from '@facepipe/core';
import { sniffFormat } from '@facepipe/vision';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import type { Producer } from '@facepipe/producer';
import { ApiError } from '../api-errors.js';
import { images } from '../contract/operations.js';
import { route } from '../contract/request-input.js';
import { imageStatus } from '../image-status.js';
import { multipartParts } from '../multipart-parts.js';
import { answerUpload } from '../upload-answer.js';
import type { Uploads } from '../uploads.js';

export interface ImagesPluginOptions {
  producer: Producer;
  uploads: Uploads;
  maxFiles: number;
  maxBytes: number;
}

const imageTypes: Record<string, string> = {
  jpeg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  gif: 'image/gif',
  tiff: 'image/tiff',
  bmp: 'image/bmp',
  ico: 'image/x-icon',
  avif: 'image/avif',
  heic: 'image/heic',
};

/** Uploads (POST /v1/images) and what is known about an image: status, original, face chips. */
export const imagesPlugin: FastifyPluginAsync<ImagesPluginOptions> = async (app, options) => {
  const { producer, uploads, maxFiles, maxBytes } = options;

  route(app, images.upload, async (_input, request, reply) => {
    const parts = multipartParts(request, maxFiles, maxBytes);
    await uploads.checkRoom();
    return answerUpload(reply, await uploads.receive(parts, { purpose: 'ingest' }));
  });

  route(app, images.status, async ({ params: { id } }) => {
    const status = await imageStatus(producer, id);
    if (!status) throw new ApiError(404, 'NOT_FOUND', `nothing is known about image ${id}`);
    return status;
  });

  route(app, images.original, async ({ params: { id } }, _request, reply) => {
    return sendImage(reply, await openObject(producer, objectKeys.original(id)));
  });

  route(app, images.crops, async ({ params: { id } }, _request, reply) => {
    const result = await producer.ctx.store.getJson<ResultDocument>(objectKeys.result(id));
    const cropKey = result?.faces[0]?.cropKey;
    if (!cropKey) throw new ApiError(404, 'NOT_FOUND', `image ${id} has no result with faces`);
    return sendImage(reply, await openObject(producer, cropKey));
  });
};

/** Opens a stored object for streaming, with its first bytes read to name its type. */
async function openObject(producer: Producer, key: string): Promise<{ head: Buffer; body: Readable }> {
  let stream: Readable;
  try {
    stream = await producer.ctx.store.getStream(key);
  } catch (err) {
    if (err instanceof FacepipeError && err.code === 'OBJECT_NOT_FOUND') throw new ApiError(404, 'NOT_FOUND', 'no such object');
    throw err;
  }
  const iterator = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const first = await iterator.next();
  const head = first.done ? Buffer.alloc(0) : Buffer.from(first.value);
  const body = Readable.from(
    (async function* () {
      if (!first.done) yield head;
      for (;;) {
        const next = await iterator.next();
        if (next.done) return;
        yield next.value;
      }
    })(),
  );
  return { head, body };
}

/** Sends stored image bytes as the image type their signature says (never as HTML: nosniff, no scripts). */
function sendImage(reply: FastifyReply, object: { head: Buffer; body: Readable }) {
  const sniffed = sniffFormat(object.head);
  const type = sniffed.kind === 'supported' ? imageTypes[sniffed.format] : undefined;
  return reply
    .type(type ?? 'application/octet-stream')
    .headers({ 'cache-control': 'private, max-age=86400, immutable', 'content-security-policy': "default-src 'none'; sandbox" })
    .send(object.body);
}
