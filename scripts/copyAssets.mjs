// Copies what the compiled package reads at run time beside it: the Redis Lua scripts.
import { cpSync } from 'node:fs';

cpSync('src/metadata/redis/lua', 'dist/src/metadata/redis/lua', { recursive: true });
