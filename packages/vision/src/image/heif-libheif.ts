/**
 * HEIF/HEIC decoding with libheif compiled to WebAssembly (libheif-js, libde265 inside): sharp's
 * prebuilt libvips has no HEVC decoder. Synchronous and CPU-heavy (~0.4 s for 1.2 MP on the dev
 * machine), so it runs in a worker thread (see `HeifDecodePool`), never on a worker's event loop.
 */
import { createRequire } from 'node:module';
import { FacepipeError } from '@facepipe/core/light';
import type { FlattenBackground } from './types.js';

interface HeifError {
  code: unknown;
  message?: string;
}
interface HeifChannel {
  id: unknown;
  width: number;
  height: number;
  stride: number;
  data: Uint8Array;
}
/** The parts of libheif-js's embind API used here. */
interface LibHeif {
  heif_context_alloc(): number;
  heif_context_free(ctx: number): void;
  heif_context_read_from_memory(ctx: number, bytes: Uint8Array): HeifError;
  heif_js_context_get_primary_image_handle(ctx: number): number | HeifError;
  heif_image_handle_get_width(handle: number): number;
  heif_image_handle_get_height(handle: number): number;
  heif_image_handle_has_alpha_channel(handle: number): number;
  heif_image_handle_release(handle: number): void;
  heif_js_decode_image2(handle: number, colorspace: unknown, chroma: unknown): Promise<{ code?: unknown; message?: string; image: number; channels: HeifChannel[] }>;
  heif_image_release(image: number): void;
  heif_error_code: { heif_error_Ok: unknown };
  heif_colorspace: { heif_colorspace_RGB: unknown };
  heif_chroma: { heif_chroma_interleaved_RGB: unknown; heif_chroma_interleaved_RGBA: unknown };
  heif_channel: { heif_channel_interleaved: unknown };
}

let libheif: LibHeif | undefined;

function load(): LibHeif {
  // The bundle carries its .wasm inline: nothing is fetched or read at run time.
  libheif ??= createRequire(import.meta.url)('libheif-js/wasm-bundle') as LibHeif;
  return libheif;
}

const TRUNCATION = /end of file|outside of file bounds|truncat|not enough data/i;
const UNSUPPORTED = /unsupported (codec|feature|image type|compression)|no decoder/i;

function typedError(message: string | undefined): FacepipeError {
  const detail = (message ?? 'unknown error').replace(/\s+/g, ' ').trim().slice(0, 300);
  if (TRUNCATION.test(detail)) return new FacepipeError('TRUNCATED_IMAGE', `heic data is cut short: ${detail}`);
  if (UNSUPPORTED.test(detail)) return new FacepipeError('UNSUPPORTED_FORMAT', `heic: ${detail}`);
  return new FacepipeError('CORRUPT_IMAGE', `heic could not be decoded: ${detail}`);
}

function isError(value: unknown): value is HeifError {
  return typeof value === 'object' && value !== null && 'code' in value;
}

/**
 * Decodes the primary image of a HEIF file to 8-bit RGB, as the decoder outputs it: `irot`/`imir`
 * applied (libheif's default), EXIF orientation not. Alpha is composited onto `background`. The
 * size is checked against `maxPixels` from the container before any pixel is decoded.
 */
export async function decodeHeifPrimary(bytes: Uint8Array, maxPixels: number, background: FlattenBackground): Promise<{ width: number; height: number; data: Uint8Array; hadAlpha: boolean }> {
  const heif = load();
  const ctx = heif.heif_context_alloc();
  if (!ctx) throw new FacepipeError('INTERNAL', 'libheif could not allocate a context');
  let handle = 0;
  try {
    const read = heif.heif_context_read_from_memory(ctx, bytes);
    if (read.code !== heif.heif_error_code.heif_error_Ok) throw typedError(read.message);
    const primary = heif.heif_js_context_get_primary_image_handle(ctx);
    if (isError(primary)) throw typedError(primary.message);
    handle = primary;
    const width = heif.heif_image_handle_get_width(handle);
    const height = heif.heif_image_handle_get_height(handle);
    if (!(width > 0 && height > 0)) throw new FacepipeError('CORRUPT_IMAGE', 'heic primary image has no size');
    if (width * height > maxPixels) {
      throw new FacepipeError('IMAGE_TOO_LARGE', `heic is ${width}x${height} = ${width * height} pixels, more than the limit of ${maxPixels}`);
    }
    const hadAlpha = heif.heif_image_handle_has_alpha_channel(handle) !== 0;
    const chroma = hadAlpha ? heif.heif_chroma.heif_chroma_interleaved_RGBA : heif.heif_chroma.heif_chroma_interleaved_RGB;
    const image = await heif.heif_js_decode_image2(handle, heif.heif_colorspace.heif_colorspace_RGB, chroma);
    if (!image || (image.code !== undefined && image.code !== heif.heif_error_code.heif_error_Ok)) throw typedError(image?.message);
    try {
      const plane = image.channels.find((c) => c.id === heif.heif_channel.heif_channel_interleaved);
      if (!plane || plane.width !== width || plane.height !== height) throw new FacepipeError('CORRUPT_IMAGE', 'heic decoded to an unexpected size');
      return { width, height, data: toRgb(plane, hadAlpha ? 4 : 3, background), hadAlpha };
    } finally {
      heif.heif_image_release(image.image);
    }
  } finally {
    if (handle) heif.heif_image_handle_release(handle);
    heif.heif_context_free(ctx);
  }
}

/** Interleaved RGB(A) rows with a stride → packed RGB, alpha composited onto the background. */
function toRgb(plane: HeifChannel, channels: 3 | 4, background: FlattenBackground): Uint8Array {
  const { width, height, stride, data } = plane;
  const out = new Uint8Array(width * height * 3);
  const bg = background === 'white' ? 255 : 0;
  for (let y = 0; y < height; y++) {
    let s = y * stride;
    let d = y * width * 3;
    for (let x = 0; x < width; x++, s += channels, d += 3) {
      if (channels === 3) {
        out[d] = data[s]!;
        out[d + 1] = data[s + 1]!;
        out[d + 2] = data[s + 2]!;
      } else {
        const a = data[s + 3]!;
        out[d] = Math.round((data[s]! * a + bg * (255 - a)) / 255);
        out[d + 1] = Math.round((data[s + 1]! * a + bg * (255 - a)) / 255);
        out[d + 2] = Math.round((data[s + 2]! * a + bg * (255 - a)) / 255);
      }
    }
  }
  return out;
}
