#!/usr/bin/env node
// Regenerates the settings table in docs/configuration.md from the TSDoc of the env schema
// (packages/core/src/config/env-schema.ts), between the GENERATED markers.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const schema = readFileSync(`${root}/packages/core/src/config/env-schema.ts`, 'utf8');
const rows = [];
for (const m of schema.matchAll(/\/\*\*((?:(?!\*\/)[\s\S])*?)\*\/\s*\n\s*([A-Z0-9_]+):\s*([^\n]+)/g)) {
  const doc = m[1].split('\n').map((l) => l.replace(/^\s*\*\s?/, '').trim()).filter(Boolean).join(' ');
  const def = /@defaultValue\s+(.+)$/.exec(doc)?.[1]?.trim() ?? '';
  const text = doc.replace(/@defaultValue\s+.+$/, '').trim();
  rows.push(`| \`${m[2]}\` | ${text.replace(/\|/g, '\\|')} | ${def ? `\`${def.replace(/\|/g, '\\|')}\`` : '–'} |`);
}
const table = ['| variable | meaning | default |', '|---|---|---|', ...rows].join('\n');
const path = `${root}/docs/configuration.md`;
const doc = readFileSync(path, 'utf8');
const start = '<!-- GENERATED:settings -->';
const end = '<!-- /GENERATED:settings -->';
const next = doc.replace(new RegExp(`${start}[\\s\\S]*${end}`), `${start}\n${table}\n${end}`);
writeFileSync(path, next);
console.log(`docs/configuration.md: ${rows.length} settings`);
