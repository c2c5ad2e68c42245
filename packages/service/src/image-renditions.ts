import { decodeImage } from '@facepipe/vision';
import sharp from 'sharp';

/** What a browser shows as it is (anything else gets a JPEG rendition). */
export const browserFormats: ReadonlySet<string> = new Set(['jpeg', 'png', 'webp', 'gif']);

export interface ImageRenditionsOptions {
  /** Largest `width * height` decoded (FACEPIPE_MAX_PIXELS). */
  maxPixels: number;
  /** Bytes of renditions kept in memory, least recently used dropped first. @defaultValue 32 MiB */
  cacheBytes?: number;
  /** JPEG quality of a rendition. @defaultValue 85 */
  quality?: number;
}

/**
 * JPEG renditions of photos browsers cannot show (TIFF, HEIC, AVIF, BMP, ICO), for the
 * dashboard: decoded with the pipeline's decoder (upright, so boxes drawn on it fit) and encoded
 * with sharp, both off the event loop (libvips' threads; HEIC in the decode worker pool). An
 * image id is the sha256 of its bytes, so a rendition never goes stale; a small LRU keeps the
 * recent ones, and concurrent requests for one image share one conversion.
 */
export class ImageRenditions {
  readonly #cache = new Map<string, Buffer>();
  readonly #making = new Map<string, Promise<Buffer>>();
  #bytes = 0;
  readonly #cacheBytes: number;

  constructor(readonly options: ImageRenditionsOptions) {
    this.#cacheBytes = options.cacheBytes ?? 32 * 1024 * 1024;
  }

  /** The JPEG rendition of image `imageId`, whose original is `original`. */
  async jpeg(imageId: string, original: () => Promise<Buffer>): Promise<Buffer> {
    const cached = this.#cache.get(imageId);
    if (cached) {
      // Most recently used last.
      this.#cache.delete(imageId);
      this.#cache.set(imageId, cached);
      return cached;
    }
    let making = this.#making.get(imageId);
    if (!making) {
      // Registered before the first await, so a second request for the image waits for this one.
      making = original()
        .then((bytes) => this.#make(bytes))
        .finally(() => this.#making.delete(imageId));
      this.#making.set(imageId, making);
    }
    const out = await making;
    this.#remember(imageId, out);
    return out;
  }

  /** Drops every rendition. */
  clear(): void {
    this.#cache.clear();
    this.#bytes = 0;
  }

  /** Drops an image's rendition (it was erased). */
  forget(imageId: string): void {
    const had = this.#cache.get(imageId);
    if (!had) return;
    this.#cache.delete(imageId);
    this.#bytes -= had.length;
  }

  async #make(bytes: Buffer): Promise<Buffer> {
    const decoded = await decodeImage(bytes, { maxPixels: this.options.maxPixels, background: 'white' });
    return sharp(Buffer.from(decoded.data.buffer, decoded.data.byteOffset, decoded.data.byteLength), { raw: { width: decoded.width, height: decoded.height, channels: 3 } })
      .jpeg({ quality: this.options.quality ?? 85, mozjpeg: false })
      .toBuffer();
  }

  #remember(imageId: string, jpeg: Buffer): void {
    if (this.#cache.has(imageId) || jpeg.length > this.#cacheBytes) return;
    this.#cache.set(imageId, jpeg);
    this.#bytes += jpeg.length;
    for (const [id, old] of this.#cache) {
      if (this.#bytes <= this.#cacheBytes) break;
      this.#cache.delete(id);
      this.#bytes -= old.length;
    }
  }
}
