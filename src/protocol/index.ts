/**
 * `streamhouse/protocol`: the RecordBatch codec, the gRPC messages and
 * service definition, and the errors shared by agent and client, for those
 * who build on the wire format.
 */
export * from './errors.js';
export { BATCH_HEADER_SIZE, MAGIC_V2, MAX_BATCH_SIZE, readBatchFrame, readBatchFrames, type BatchFrame } from './batchLayout.js';
export * from './recordBatch.js';
export { validateProducedBatch, type ProducedBatchLimits } from './producedBatchValidation.js';
export * from './generated/streamhouse.js';
