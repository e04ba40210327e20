/**
 * MurmurHash2 (32-bit) exactly as Apache Kafka's Java client computes it
 * (`org.apache.kafka.common.utils.Utils.murmur2`, seed 0x9747b28c), so that a
 * key lands on the same partition here as it would with a Kafka producer.
 *
 * Why this hash: it is what Kafka's default partitioner uses, it is fast on
 * short keys, and matching it lets a topic migrated from Kafka keep its
 * key-to-partition layout (and lets mixed fleets agree on it).
 *
 * Java works on signed 32-bit ints; the result here is the same signed value
 * (e.g. UTF-8 "abc" hashes to 479470107, "21" to -973932308).
 */

/** Kafka's seed for murmur2. */
const SEED = 0x9747b28c;
/** The multiplication constant of MurmurHash2. */
const M = 0x5bd1e995;
/** The shift of the per-word mixing step. */
const R = 24;

/** MurmurHash2 of `data`, as a signed 32-bit integer (Java `int`). */
export function murmur2(data: Uint8Array): number {
  const length = data.length;
  let h = (SEED ^ length) | 0;
  const tail = length & ~3;

  // Little-endian 4-byte words; Math.imul keeps Java's wrapping int multiply.
  for (let i = 0; i < tail; i += 4) {
    let k = data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
    k = Math.imul(k, M);
    k ^= k >>> R;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }

  // The 1–3 trailing bytes (Java falls through its switch the same way).
  const rest = length & 3;
  if (rest > 0) {
    if (rest === 3) h ^= data[tail + 2]! << 16;
    if (rest >= 2) h ^= data[tail + 1]! << 8;
    h ^= data[tail]!;
    h = Math.imul(h, M);
  }

  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/**
 * Kafka's `Utils.toPositive`: clears the sign bit (not `Math.abs`, which
 * would leave -2^31 negative and map n and -n together).
 */
export function toPositive(hash: number): number {
  return hash & 0x7fffffff;
}

/** UTF-8 encoder shared by the string helpers. */
const utf8 = new TextEncoder();

/** murmur2 of the UTF-8 bytes of `text`. */
export function murmur2String(text: string): number {
  return murmur2(utf8.encode(text));
}
