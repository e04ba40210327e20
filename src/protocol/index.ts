/**
 * `streamhouse/protocol`: the RecordBatch codec, the gRPC messages and
 * service definition, and the errors shared by agent and client, for those
 * who build on the wire format.
 */
export * from './errors.js';
export {
  BATCH_HEADER_SIZE,
  MAGIC_V2,
  MAX_BATCH_SIZE,
  readBatchFrame,
  readBatchFrames,
  type BatchFrame,
} from './codec/batchLayout.js';
export * from './codec/recordBatch.js';
export { validateProducedBatch, type ProducedBatchLimits } from './codec/producedBatchValidation.js';
export * from './generated/streamhouse.js';
