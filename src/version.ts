/** The package version, read once from its package.json (beside src/ in a checkout, beside dist/ when installed). */
import { readFileSync } from 'node:fs';

function readVersion(): string {
  for (const path of ['../package.json', '../../package.json']) {
    try {
      const manifest = JSON.parse(readFileSync(new URL(path, import.meta.url), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (manifest.name === 'streamhouse' && typeof manifest.version === 'string') return manifest.version;
    } catch {
      // not at this level
    }
  }
  throw new Error('streamhouse: package.json not found beside the sources');
}

/** The version of this package, e.g. `0.1.0`. */
export const VERSION = readVersion();
