/**
 * Binary encoding of the group protocol's member metadata (sent at
 * JoinGroup) and assignments (sent at SyncGroup). Big-endian, Kafka-style:
 *
 * ```
 * MemberMetadata (version 1)
 *   version        int16          >= 1
 *   topics         array<string>  ascending, unique
 *   ownedPartitions array<TopicPartitions>
 *   generation     int32          -1 = unknown
 *   userData       nullable bytes
 *
 * Assignment (version 1)
 *   version        int16          >= 1
 *   partitions     array<TopicPartitions>
 *   userData       nullable bytes
 *
 * TopicPartitions  = topic string, array<int32 partition>  (partitions ascending, unique, >= 0)
 * array<T>         = int32 count, then the items
 * string           = int16 byte length, then UTF-8 (non-empty for topics)
 * nullable bytes   = int32 length (-1 = absent), then the bytes
 * ```
 * TopicPartitions lists are ascending by topic, one entry per topic.
 *
 * Version 0 is Kafka's ConsumerProtocol v0, what KafkaJS writes: metadata
 * is version, topics and userData (no owned partitions, no generation); an
 * assignment has the layout of version 1. It is read, never written, so
 * KafkaJS members can share a group with ours.
 *
 * Evolution: a later version may only append fields. A decoder reads the
 * fields it knows and ignores what follows when the version is newer than its
 * own, so old and new members can share a group during a rolling upgrade. At
 * the version it knows, trailing bytes mean corruption.
 *
 * Encoders normalise (sort) their input and reject duplicates with
 * InvalidRequestError; decoders reject anything malformed with
 * CorruptMessageError.
 */
import { InvalidRequestError } from '../../protocol/errors.js';
import { compareStrings } from './assignorSupport.js';
import { ByteReader, ByteWriter } from './byteCursor.js';
import type { Assignment, MemberMetadata, TopicPartitions } from './types.js';

/** The version this code writes and fully understands. */
export const MEMBER_CODEC_VERSION = 1;

/** Encodes member metadata, written at {@link MEMBER_CODEC_VERSION}. Throws InvalidRequestError on bad input. */
export function encodeMemberMetadata(metadata: MemberMetadata): Uint8Array {
  const generation = metadata.generation ?? -1;
  if (!Number.isInteger(generation) || generation < -1) {
    throw new InvalidRequestError(`generation must be an integer >= -1, got ${generation}`);
  }
  const writer = new ByteWriter().int16(MEMBER_CODEC_VERSION);
  writer.array(sortedUnique(metadata.topics, 'subscribed topic'), (topic) => writer.string(checkTopic(topic)));
  writeTopicPartitions(writer, metadata.ownedPartitions);
  writer.int32(generation);
  writer.nullableBytes(metadata.userData);
  return writer.toBytes();
}

/** Decodes member metadata. Throws CorruptMessageError on malformed bytes. */
export function decodeMemberMetadata(bytes: Uint8Array): MemberMetadata {
  const reader = new ByteReader(bytes, 'member metadata');
  const version = readVersion(reader);
  const topics = reader.array(2, () => reader.string());
  checkAscending(reader, topics, 'subscribed topics');
  for (const topic of topics) if (topic === '') reader.fail('empty topic name');
  if (version === 0) {
    const kafkaUserData = reader.nullableBytes();
    checkEnd(reader, version);
    const metadata: MemberMetadata = { version, topics, ownedPartitions: [] };
    if (kafkaUserData !== undefined) metadata.userData = kafkaUserData;
    return metadata;
  }
  const ownedPartitions = readTopicPartitions(reader);
  const generation = reader.int32();
  if (generation < -1) reader.fail(`generation ${generation} below -1`);
  const userData = reader.nullableBytes();
  checkEnd(reader, version);
  const metadata: MemberMetadata = { version, topics, ownedPartitions };
  if (generation !== -1) metadata.generation = generation;
  if (userData !== undefined) metadata.userData = userData;
  return metadata;
}

/** Encodes an assignment, written at {@link MEMBER_CODEC_VERSION}. Throws InvalidRequestError on bad input. */
export function encodeAssignment(assignment: Assignment): Uint8Array {
  const writer = new ByteWriter().int16(MEMBER_CODEC_VERSION);
  writeTopicPartitions(writer, assignment.partitions);
  writer.nullableBytes(assignment.userData);
  return writer.toBytes();
}

/** Decodes an assignment. Throws CorruptMessageError on malformed bytes. */
export function decodeAssignment(bytes: Uint8Array): Assignment {
  const reader = new ByteReader(bytes, 'assignment');
  const version = readVersion(reader);
  const partitions = readTopicPartitions(reader);
  const userData = reader.nullableBytes();
  checkEnd(reader, version);
  const assignment: Assignment = { version, partitions };
  if (userData !== undefined) assignment.userData = userData;
  return assignment;
}

function writeTopicPartitions(writer: ByteWriter, list: readonly TopicPartitions[]): void {
  const byTopic = new Map<string, number[]>();
  for (const { topic, partitions } of list) {
    if (byTopic.has(topic)) throw new InvalidRequestError(`topic ${topic} listed twice`);
    for (const partition of partitions) {
      if (!Number.isInteger(partition) || partition < 0 || partition > 0x7fffffff) {
        throw new InvalidRequestError(`invalid partition ${partition} of ${topic}`, { context: { topic } });
      }
    }
    byTopic.set(checkTopic(topic), sortedUnique(partitions, `partition of ${topic}`));
  }
  const topics = [...byTopic.keys()].sort(compareStrings);
  writer.array(topics, (topic) => {
    writer.string(topic);
    writer.array(byTopic.get(topic)!, (partition) => writer.int32(partition));
  });
}

function readTopicPartitions(reader: ByteReader): TopicPartitions[] {
  // Smallest entry: 2-byte topic length + 1 byte of name + 4-byte count.
  const list = reader.array(7, () => {
    const topic = reader.string();
    if (topic === '') reader.fail('empty topic name');
    const partitions = reader.array(4, () => reader.int32());
    for (const partition of partitions) if (partition < 0) reader.fail(`negative partition ${partition} of ${topic}`);
    checkAscending(reader, partitions, `partitions of ${topic}`);
    return { topic, partitions };
  });
  checkAscending(
    reader,
    list.map((entry) => entry.topic),
    'topics of a partition list',
  );
  return list;
}

function readVersion(reader: ByteReader): number {
  const version = reader.int16();
  if (version < 0) reader.fail(`invalid version ${version}`);
  return version;
}

function checkEnd(reader: ByteReader, version: number): void {
  if (version <= MEMBER_CODEC_VERSION && reader.remaining !== 0) {
    reader.fail(`${reader.remaining} unexpected trailing bytes`);
  }
}

function checkAscending<T extends string | number>(reader: ByteReader, values: readonly T[], what: string): void {
  for (let i = 1; i < values.length; i++) {
    if (!(values[i - 1]! < values[i]!)) reader.fail(`${what} not strictly ascending`);
  }
}

function checkTopic(topic: string): string {
  if (topic === '') throw new InvalidRequestError('topic name must not be empty');
  return topic;
}

/** A sorted copy; duplicates are a caller bug, reported rather than hidden. */
function sortedUnique<T extends string | number>(values: readonly T[], what: string): T[] {
  const sorted = [...values].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i - 1] === sorted[i]) throw new InvalidRequestError(`duplicate ${what}: ${String(sorted[i])}`);
  }
  return sorted;
}
