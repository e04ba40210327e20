/**
 * Input checks shared by every MetadataStore backend, so that SQLite and
 * Redis reject exactly the same names and configs with the same messages.
 * Each message says what was wrong and what to change.
 */
import {
  InvalidConfigError,
  InvalidPartitionsError,
  InvalidRequestError,
  InvalidTopicError,
} from '../protocol/errors.js';
import { DEFAULT_TOPIC_CONFIG, type TopicConfig } from './metadataStore.js';

/** Longest topic name (Kafka's limit, which leaves room for suffixes in object keys). */
export const MAX_TOPIC_NAME_LENGTH = 249;
/** Most partitions one topic may have. */
export const MAX_PARTITIONS = 10_000;
/** Smallest `segmentBytes`: smaller segments would make the registry and the listing cost explode. */
export const MIN_SEGMENT_BYTES = 1024 * 1024;
/** Largest `segmentBytes` (one GiB): a merged segment is written as one object. */
export const MAX_SEGMENT_BYTES = 1024 * 1024 * 1024;
/** Largest `maxMessageBytes`: 64 MiB, the ceiling for one Produce batch. */
export const MAX_MESSAGE_BYTES_LIMIT = 64 * 1024 * 1024;
/** Longest consumer group id. */
export const MAX_GROUP_ID_LENGTH = 255;

const TOPIC_NAME_PATTERN = /^[A-Za-z0-9._-]+$/;
// C0 controls and DEL: invisible in logs and tools, never meant as part of an id.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;

/** Throws InvalidTopicError unless `name` is 1..249 of `[A-Za-z0-9._-]` and not `.` or `..`. */
export function validateTopicName(name: string): void {
  if (typeof name !== 'string' || name.length === 0) {
    throw new InvalidTopicError('topic name is empty: use 1 to 249 characters from [A-Za-z0-9._-]');
  }
  if (name.length > MAX_TOPIC_NAME_LENGTH) {
    throw new InvalidTopicError(
      `topic name is ${name.length} characters long: shorten it to at most ${MAX_TOPIC_NAME_LENGTH}`,
      { context: { topic: name } },
    );
  }
  if (name === '.' || name === '..') {
    throw new InvalidTopicError(`topic name '${name}' is reserved: choose another name`, { context: { topic: name } });
  }
  if (!TOPIC_NAME_PATTERN.test(name)) {
    throw new InvalidTopicError(
      `topic name '${name}' has characters outside [A-Za-z0-9._-]: replace them (e.g. with '-' or '_')`,
      { context: { topic: name } },
    );
  }
}

/** Throws InvalidPartitionsError unless `count` is an integer in 1..10000. */
export function validatePartitionCount(count: number, topic?: string): void {
  if (!Number.isInteger(count) || count < 1 || count > MAX_PARTITIONS) {
    throw new InvalidPartitionsError(
      `partition count ${String(count)} is invalid: use an integer from 1 to ${MAX_PARTITIONS}`,
      topic === undefined ? undefined : { context: { topic } },
    );
  }
}

/** The keys a TopicConfig may have; anything else is a typo the caller should hear about. */
const CONFIG_KEYS: readonly (keyof TopicConfig)[] = [
  'retentionMs',
  'retentionBytes',
  'segmentBytes',
  'maxMessageBytes',
];

/**
 * Applies DEFAULT_TOPIC_CONFIG to `partial` and checks every value; returns a
 * complete config. Throws InvalidConfigError naming the field and the range to use:
 * - `retentionMs`, `retentionBytes`: -1 (no limit) or a positive integer;
 * - `segmentBytes`: an integer from 1 MiB to 1 GiB;
 * - `maxMessageBytes`: an integer from 1 to 64 MiB;
 * - unknown fields are rejected.
 */
export function resolveTopicConfig(partial: Partial<TopicConfig> = {}, topic?: string): TopicConfig {
  const options = topic === undefined ? undefined : { context: { topic } };
  if (partial === null || typeof partial !== 'object') {
    throw new InvalidConfigError('topic config must be an object', options);
  }
  for (const key of Object.keys(partial)) {
    if (!(CONFIG_KEYS as readonly string[]).includes(key)) {
      throw new InvalidConfigError(`unknown topic config '${key}': use one of ${CONFIG_KEYS.join(', ')}`, options);
    }
  }
  const config: TopicConfig = { ...DEFAULT_TOPIC_CONFIG };
  for (const key of CONFIG_KEYS) {
    const value = partial[key];
    if (value !== undefined) config[key] = value;
  }
  checkLimit('retentionMs', config.retentionMs, 'ms', options);
  checkLimit('retentionBytes', config.retentionBytes, 'bytes', options);
  checkRange('segmentBytes', config.segmentBytes, MIN_SEGMENT_BYTES, MAX_SEGMENT_BYTES, options);
  checkRange('maxMessageBytes', config.maxMessageBytes, 1, MAX_MESSAGE_BYTES_LIMIT, options);
  return config;
}

function checkLimit(
  name: string,
  value: number,
  unit: string,
  options: { context: { topic: string } } | undefined,
): void {
  if (value === -1 || (Number.isSafeInteger(value) && value > 0)) return;
  throw new InvalidConfigError(
    `${name} ${String(value)} is invalid: use -1 for no limit or a positive integer (${unit})`,
    options,
  );
}

function checkRange(
  name: string,
  value: number,
  min: number,
  max: number,
  options: { context: { topic: string } } | undefined,
): void {
  if (Number.isInteger(value) && value >= min && value <= max) return;
  throw new InvalidConfigError(
    `${name} ${String(value)} is invalid: use an integer from ${min} to ${max} (bytes)`,
    options,
  );
}

/**
 * Throws InvalidRequestError unless `groupId` is 1..255 characters without
 * control characters. (The error codes have no INVALID_GROUP_ID.)
 */
export function validateGroupId(groupId: string): void {
  if (typeof groupId !== 'string' || groupId.length === 0) {
    throw new InvalidRequestError('group id is empty: use 1 to 255 printable characters');
  }
  if (groupId.length > MAX_GROUP_ID_LENGTH) {
    throw new InvalidRequestError(
      `group id is ${groupId.length} characters long: shorten it to at most ${MAX_GROUP_ID_LENGTH}`,
    );
  }
  if (CONTROL_CHARACTERS.test(groupId)) {
    throw new InvalidRequestError(`group id ${JSON.stringify(groupId)} contains control characters: remove them`);
  }
}

/** Throws InvalidRequestError unless `agentId` is 1..255 characters without control characters. */
export function validateAgentId(agentId: string): void {
  if (typeof agentId !== 'string' || agentId.length === 0 || agentId.length > 255 || CONTROL_CHARACTERS.test(agentId)) {
    throw new InvalidRequestError(`agent id ${JSON.stringify(agentId)} is invalid: use 1 to 255 printable characters`);
  }
}
