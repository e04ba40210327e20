// Copies what the compiled package reads at run time beside it: the Redis Lua scripts (replacing any older copy).
import { cpSync, rmSync } from 'node:fs';

rmSync('dist/src/metadata/redis/lua', { recursive: true, force: true });
cpSync('src/metadata/redis/lua', 'dist/src/metadata/redis/lua', { recursive: true });
