import { sniffFormat } from '@facepipe/vision';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { ApiError } from '../api-errors.js';
import { images } from '../contract/operations.js';
import { route } from '../contract/request-input.js';
import { multipartParts } from '../multipart-parts.js';
import type { ErasureCommands } from '../erasures.js';
import type { ImageReads, StoredObject } from '../read-models/image-reads.js';
import { answerUpload } from '../upload-answer.js';
import { browserFormats, type ImageRenditions } from '../image-renditions.js';
import type { Uploads } from '../uploads.js';

export interface ImagesPluginOptions {
  reads: ImageReads;
  uploads: Uploads;
  erasures: ErasureCommands;
  maxFiles: number;
  maxBytes: number;
  /** Browser-safe renditions of the originals, for GET /v1/images/{id}/display. */
  renditions: ImageRenditions;
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
  const { reads, uploads, erasures, maxFiles, maxBytes, renditions } = options;

  route(app, images.upload, async (_input, request, reply) => {
    const parts = multipartParts(request, maxFiles, maxBytes);
    await uploads.checkRoom();
    return answerUpload(reply, await uploads.receive(parts, { purpose: 'ingest' }));
  });

  route(app, images.status, async ({ params: { id } }) => {
    const status = await reads.status(id);
    if (!status) throw new ApiError(404, 'NOT_FOUND', `nothing is known about image ${id}`);
    return status;
  });

  route(app, images.erase, async ({ params: { id } }, request) => {
    const { record } = await erasures.eraseImage(id, request.principal);
    return { imageId: id, erased: true as const, found: record.counts.images > 0, erasure: record };
  });

  route(app, images.original, async ({ params: { id } }, _request, reply) => sendImage(reply, await reads.original(id)));

  route(app, images.display, async ({ params: { id } }, _request, reply) => {
    // Opened every time, so an erased image is a 404 even while its rendition is cached.
    const object = await reads.original(id);
    const sniffed = sniffFormat(object.head);
    if (sniffed.kind === 'supported' && browserFormats.has(sniffed.format)) return sendImage(reply, object);
    const jpeg = await renditions.jpeg(id, async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of object.body) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks);
    });
    object.body.destroy();
    return reply.type('image/jpeg').headers({ 'cache-control': 'private, max-age=86400, immutable', 'content-security-policy': "default-src 'none'; sandbox" }).send(jpeg);
  });

  route(app, images.crops, async ({ params: { id } }, _request, reply) => sendImage(reply, await reads.crops(id)));
};

/** Sends stored image bytes as the image type their signature says (never as HTML: nosniff, no scripts). */
function sendImage(reply: FastifyReply, object: StoredObject) {
  const sniffed = sniffFormat(object.head);
  const type = sniffed.kind === 'supported' ? imageTypes[sniffed.format] : undefined;
  return reply
    .type(type ?? 'application/octet-stream')
    .headers({ 'cache-control': 'private, max-age=86400, immutable', 'content-security-policy': "default-src 'none'; sandbox" })
    .send(object.body);
}
