/**
 * Loads the metadata Lua scripts (lua/<name>-<numKeys>.lua) and defines them
 * on an ioredis client with `defineCommand`, which runs them by EVALSHA and
 * falls back to EVAL after a script-cache flush.
 *
 * The .lua files are not compiled by tsc, so from `dist/src/metadata/redis/`
 * the loader looks in the package's `src/metadata/redis/lua/` (shipped with
 * the package); from `src/` (tsx) they sit next to this file.
 * @internal
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import { MetadataError } from '../../protocol/errors.js';

/** Script files by the name the store calls them with. */
const SCRIPT_FILES = {
  createTopic: 'create-topic-2',
  deleteTopic: 'delete-topic-2',
  alterTopicConfig: 'alter-topic-config-1',
  listTopics: 'list-topics-1',
  adoptTopicId: 'adopt-topic-id-2',
  listPartitions: 'list-partitions-1',
  acquireLease: 'acquire-lease-1',
  renewLease: 'renew-lease-1',
  releaseLease: 'release-lease-1',
  commitSegment: 'commit-segment-5',
  replaceSegments: 'replace-segments-3',
  deleteSegments: 'delete-segments-3',
  listSegments: 'list-segments-3',
  allocateProducerId: 'allocate-producer-id-2',
  bumpProducerEpoch: 'bump-producer-epoch-1',
  heartbeatAgent: 'heartbeat-agent-2',
  updateGroup: 'update-group-2',
  commitOffsets: 'commit-offsets-3',
  deleteGroup: 'delete-group-3',
} as const;

/** @internal The name of a metadata script. */
export type ScriptName = keyof typeof SCRIPT_FILES;

/** A script argument: keys and values travel as strings (numbers are formatted exactly by the caller). */
export type ScriptArg = string;

type DefinedCommand = (...args: ScriptArg[]) => Promise<unknown>;

/** @internal One script, ready for `defineCommand`. */
export type LoadedScript = { command: string; numberOfKeys: number; lua: string };

/** Command names are namespaced so they never clash with other code defining commands on a shared client. */
function commandName(name: ScriptName): string {
  return `streamhouseMetadata_${name}`;
}

/** The directory holding the .lua files, from src/ (tsx) or from dist/ (compiled). */
export function locateLuaDirectory(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  // the build copies lua/ beside the compiled module (scripts/copyAssets.mjs)
  const dir = join(here, 'lua');
  if (!existsSync(join(dir, 'includes', 'common.lua')))
    throw new MetadataError(`metadata Lua scripts not found in ${dir}`);
  return dir;
}

let loaded: Map<ScriptName, LoadedScript> | undefined;

/** Reads every script once per process (prelude + body). */
export function loadScripts(): Map<ScriptName, LoadedScript> {
  if (loaded !== undefined) return loaded;
  const dir = locateLuaDirectory();
  const prelude = readFileSync(join(dir, 'includes', 'common.lua'), 'utf8');
  const scripts = new Map<ScriptName, LoadedScript>();
  for (const [name, file] of Object.entries(SCRIPT_FILES) as [ScriptName, string][]) {
    const numberOfKeys = Number(/-(\d+)$/.exec(file)![1]);
    const body = readFileSync(join(dir, `${file}.lua`), 'utf8');
    scripts.set(name, { command: commandName(name), numberOfKeys, lua: `${prelude}\n${body}` });
  }
  loaded = scripts;
  return scripts;
}

/** @internal Calls the metadata scripts on one client. */
export class MetadataScripts {
  private readonly commands: Record<string, DefinedCommand>;

  /** Defines every script on `client` (idempotent per client). */
  constructor(client: Redis) {
    for (const script of loadScripts().values()) {
      client.defineCommand(script.command, { numberOfKeys: script.numberOfKeys, lua: script.lua });
    }
    // defineCommand adds methods that ioredis' types cannot know.
    this.commands = client as unknown as Record<string, DefinedCommand>;
  }

  /** Runs script `name` with its keys then its arguments. */
  run(name: ScriptName, keys: string[], args: ScriptArg[]): Promise<unknown> {
    const script = loadScripts().get(name)!;
    if (keys.length !== script.numberOfKeys) {
      throw new MetadataError(`script ${name} takes ${script.numberOfKeys} keys, got ${keys.length}`);
    }
    return this.commands[script.command]!.call(this.commands, ...keys, ...args);
  }
}
