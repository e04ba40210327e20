/**
 * Snappy encoding (Kafka codec 2) with snappyjs: one raw snappy block, as
 * librdkafka and KafkaJS write it (both, and our decoder, read it; the Java
 * client reads it too).
 */
import { createRequire } from 'node:module';

type SnappyJs = { compress(input: Uint8Array): Uint8Array };

// snappyjs is CommonJS without type declarations.
const snappy = createRequire(import.meta.url)('snappyjs') as SnappyJs;

/** `bytes` as one raw snappy block. */
export function snappyCompress(bytes: Uint8Array): Uint8Array {
  return snappy.compress(bytes);
}
