// Copies what the compiled package reads at run time beside it (replacing any older copy): the Redis Lua scripts and
// the web console's pages, scripts and styles.
import { cpSync, rmSync } from 'node:fs';

for (const dir of ['metadata/redis/lua', 'http/console/assets']) {
  rmSync(`dist/src/${dir}`, { recursive: true, force: true });
  cpSync(`src/${dir}`, `dist/src/${dir}`, { recursive: true });
}
