import { z } from 'zod';
import { batchIdPattern, imageIdPattern } from '@facepipe/core';

// Field schemas that several routes share. Query strings and form fields arrive as text: these
// read them into numbers and flags, and say in their message what a good value looks like (the
// request parser puts the field's name in front).

/** A whole number from `min` to `max`, in a query string or form field. */
export function wholeNumber(min: number, max: number) {
  const error = `a whole number from ${min} to ${max}`;
  return z.coerce.number({ error }).int({ error }).min(min, { error }).max(max, { error });
}

/** A yes/no query value: `true`, `1` or present without a value; `false` or `0`; absent: `byDefault`. */
export const flag = (byDefault: boolean) =>
  z
    .enum(['true', '1', '', 'false', '0'], { error: 'true or false' })
    .default(byDefault ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1' || v === '');

export const imageId = z.string().regex(imageIdPattern, { error: 'image ids are 64 lowercase hex digits (the sha256 of the bytes)' }).describe('Image id: the sha256 of its bytes, lowercase hex');

export const batchId = z.string().regex(batchIdPattern, { error: 'batch ids are 1-64 letters, digits, _ or -' });

/** A JSON number that is a whole number (no coercion: bodies are typed). */
export const count = z.number().int();

/** Milliseconds since the epoch. */
export const epochMs = z.number().int().describe('ms since epoch');

/** The query of a list paged by `listPage`: `limit`, and `cursor` = the previous page's `nextCursor`. */
export function listPageQuery(maxLimit: number, byDefault: number) {
  return {
    limit: wholeNumber(1, maxLimit).default(byDefault).describe('Entries to return'),
    cursor: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,400}$/, { error: 'the nextCursor of the previous page' })
      .optional()
      .describe('The `nextCursor` of the previous page'),
  };
}

/** The `nextCursor` of every paged answer. */
export const nextCursor = z.string().nullable().describe('Where the next page starts; null on the last page');

/** How every paged list is read, said in each list route's description. */
export const pagedList = 'Pages as every list: `limit`, then `cursor` = the `nextCursor` of the previous page until it is null.';
