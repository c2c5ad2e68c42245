import { test } from 'node:test';
import assert from 'node:assert/strict';
import { COMMANDS, INTERNAL_COMMANDS } from '../../packages/cli/dist/commands/registry.js';

test('the command registry matches the modules it loads (name and summary), one entry per name', async () => {
  const names = [...COMMANDS, ...INTERNAL_COMMANDS].map((c) => c.name);
  assert.equal(new Set(names).size, names.length);
  for (const entry of [...COMMANDS, ...INTERNAL_COMMANDS]) {
    const command = await entry.load();
    assert.equal(command.name, entry.name);
    assert.equal(command.summary, entry.summary, `${entry.name}: the usage's summary is the command's own`);
  }
});
