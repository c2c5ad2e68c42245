import type { ErrorCode } from '@facepipe/core/light';
import type { FlattenBackground } from './types.js';

/** Main thread → HEIF decode worker. */
export interface HeifDecodeRequest {
  id: number;
  bytes: Uint8Array;
  maxPixels: number;
  background: FlattenBackground;
}

/** HEIF decode worker → main thread: the coded image as RGB (before EXIF orientation), or a typed failure. */
export type HeifDecodeReply =
  | { id: number; ok: true; width: number; height: number; data: Uint8Array; hadAlpha: boolean }
  | { id: number; ok: false; code: ErrorCode; message: string };
