import { readFileSync } from 'node:fs';

const includeLine = /^--- @include "([\w/-]+)"\s*$/gm;

/**
 * Reads a Lua script of a package's `lua/` folder, with its `--- @include "includes/name"`
 * lines replaced by those files (the convention BullMQ's own commands use), for
 * `redis.defineCommand`. Read once at start, never on a job's path.
 *
 * @param folder the package's lua folder, e.g. `new URL('../../lua/', import.meta.url)`
 * @param name the script's file name without `.lua`
 */
export function readLuaScript(folder: URL, name: string, seen: ReadonlySet<string> = new Set()): string {
  if (seen.has(name)) throw new Error(`Lua include cycle: ${[...seen, name].join(' → ')}`);
  const text = readFileSync(new URL(`${name}.lua`, folder), 'utf8');
  return text.replace(includeLine, (_, included: string) => readLuaScript(folder, included, new Set([...seen, name])));
}
