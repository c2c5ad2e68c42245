import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { readLuaScript, trackerCommands } from '@facepipe/core';

test('readLuaScript replaces @include lines with the included file and refuses a cycle', () => {
  const dir = mkdtempSync(join(tmpdir(), 'facepipe-lua-'));
  try {
    mkdirSync(join(dir, 'includes'));
    writeFileSync(join(dir, 'includes', 'two.lua'), 'local function two() return 2 end\n');
    writeFileSync(join(dir, 'main.lua'), '--- @include "includes/two"\nreturn two()\n');
    writeFileSync(join(dir, 'a.lua'), '--- @include "b"\n');
    writeFileSync(join(dir, 'b.lua'), '--- @include "a"\n');
    const folder = pathToFileURL(`${dir}/`);
    assert.equal(readLuaScript(folder, 'main'), 'local function two() return 2 end\n\nreturn two()\n');
    assert.throws(() => readLuaScript(folder, 'a'), /include cycle: a → b → a/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the tracker's scripts are read from packages/core/lua with their includes expanded", () => {
  for (const [name, command] of Object.entries(trackerCommands)) {
    assert.doesNotMatch(command.lua, /@include/, name);
    assert.match(command.lua, /redis\.call/, name);
  }
  assert.match(trackerCommands.fpMarkItem.lua, /local function mark\(/);
});
