/**
 * The console's static files: its own pages and scripts (./assets, copied
 * beside the compiled code by scripts/copyAssets.mjs) and uPlot from its
 * installed package. Only these names are served; each is read once.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const OWN = new URL('./assets/', import.meta.url);
const require = createRequire(import.meta.url);

const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
};

/** URL path → file. */
const FILES = new Map<string, string>([
  ['/', fileURLToPath(new URL('index.html', OWN))],
  ...['app.js', 'api.js', 'format.js', 'overview.js', 'topic.js', 'messages.js', 'groups.js', 'style.css'].map(
    (name) => [`/console/${name}`, fileURLToPath(new URL(name, OWN))] as [string, string],
  ),
  ['/console/vendor/uPlot.esm.js', require.resolve('uplot/dist/uPlot.esm.js')],
  ['/console/vendor/uPlot.min.css', require.resolve('uplot/dist/uPlot.min.css')],
]);

export type Asset = { body: Buffer; type: string };

const cache = new Map<string, Promise<Asset>>();

/** Whether `path` names a console file. */
export function isAsset(path: string): boolean {
  return FILES.has(path);
}

export function asset(path: string): Promise<Asset> {
  let pending = cache.get(path);
  if (pending === undefined) {
    const file = FILES.get(path)!;
    pending = readFile(file).then((body) => ({ body, type: TYPES[file.slice(file.lastIndexOf('.') + 1)]! }));
    pending.catch(() => cache.delete(path));
    cache.set(path, pending);
  }
  return pending;
}
