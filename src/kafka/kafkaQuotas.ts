/**
 * Kafka side of the byte-rate quotas: a Produce is charged its request
 * frame, a Fetch the records it returns, to the connection's principal
 * (ANONYMOUS without one). Over quota, the answer carries the delay as
 * `throttle_time_ms` and is sent only after it, holding the connection's
 * later answers too, as a Kafka broker mutes a throttled client's channel.
 */
import type { ByteRateQuotas } from '../agent/server/byteRateQuotas.js';
import { ANONYMOUS } from '../metadata/aclRules.js';

export type KafkaQuotas = { produce: ByteRateQuotas; fetch: ByteRateQuotas };

const PRODUCE_KEY = 0;
const FETCH_KEY = 1;

type FetchAnswer = { responses?: { partitions?: { records?: Uint8Array | null }[] }[] };

/** Charges one answered request; the throttle delay, ms, also written into the answer's throttleTimeMs. */
export function chargeQuota(
  quotas: KafkaQuotas | undefined,
  principal: string | undefined,
  apiKey: number,
  requestBytes: number,
  response: unknown,
): number {
  if (quotas === undefined || (apiKey !== PRODUCE_KEY && apiKey !== FETCH_KEY)) return 0;
  const who = principal ?? ANONYMOUS;
  const throttleMs =
    apiKey === PRODUCE_KEY
      ? quotas.produce.record(who, requestBytes)
      : quotas.fetch.record(who, fetchedBytes(response as FetchAnswer | undefined));
  if (throttleMs > 0 && typeof response === 'object' && response !== null) {
    (response as { throttleTimeMs?: number }).throttleTimeMs = throttleMs;
  }
  return throttleMs;
}

function fetchedBytes(response: FetchAnswer | undefined): number {
  let bytes = 0;
  for (const topic of response?.responses ?? []) {
    for (const partition of topic.partitions ?? []) bytes += partition.records?.length ?? 0;
  }
  return bytes;
}
