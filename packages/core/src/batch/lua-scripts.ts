import { readLuaScript } from '../lua/read-lua-script.js';

/**
 * Redis scripts for batch accounting (packages/core/lua/*.lua). Each batch keeps a hash of counts
 * and two bitmaps indexed by the item's position in the batch (done, failed): marking is
 * idempotent (a retried or repeated completion flips no bit twice) and costs one bit per image,
 * so a batch of ten million images needs about 2.5 MB of Redis, not a set of ids.
 *
 * Images are shared between batches: an image in flight has a set of waiters
 * ("batchId:index"); completing the image marks every waiter.
 */
const folder = new URL('../../lua/', import.meta.url);

/** The tracker's commands: name → keys and script, defined on each connection the tracker uses. */
export const trackerCommands = {
  fpClaimImage: { numberOfKeys: 2, lua: readLuaScript(folder, 'claim-image') },
  fpCompleteImage: { numberOfKeys: 3, lua: readLuaScript(folder, 'complete-image') },
  fpMarkItem: { numberOfKeys: 1, lua: readLuaScript(folder, 'mark-item') },
  fpFinishIngest: { numberOfKeys: 1, lua: readLuaScript(folder, 'finish-ingest') },
  fpAddOpenItem: { numberOfKeys: 1, lua: readLuaScript(folder, 'add-open-item') },
  fpCloseBatch: { numberOfKeys: 1, lua: readLuaScript(folder, 'close-batch') },
  fpDeleteIfEqual: { numberOfKeys: 1, lua: readLuaScript(folder, 'delete-if-equal') },
} as const;
