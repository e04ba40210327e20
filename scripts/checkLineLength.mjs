#!/usr/bin/env node
/**
 * Fails when a line of src, spec, bench, examples or scripts (.ts, .mjs, .js; generated code aside) is longer than
 * 120 characters: biome formats code to that width but cannot split string literals or comments.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const MAX = 120;
const ROOTS = ['src', 'spec', 'bench', 'examples', 'scripts'];
const EXTENSIONS = /\.(ts|mjs|js)$/;
const SKIPPED = new Set(['node_modules', 'generated', 'results']);

function* files(dir) {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!SKIPPED.has(entry.name)) yield* files(path);
    } else if (EXTENSIONS.test(entry.name)) yield path;
  }
}

const long = [];
for (const root of ROOTS) {
  for (const path of files(root)) {
    readFileSync(path, 'utf8')
      .split('\n')
      .forEach((line, i) => {
        // Counted in code points, as the editor shows them.
        const length = [...line].length;
        if (length > MAX) long.push(`${path}:${i + 1}: ${length} characters`);
      });
  }
}
if (long.length > 0) {
  console.error(`${long.length} lines longer than ${MAX} characters:\n${long.join('\n')}`);
  process.exit(1);
}
