/** The protocol part: wire messages, RecordBatch codec and errors shared by agent and client. */
export * from './errors.js';
export * from './batchLayout.js';
export * from './recordBatch.js';
export * from './generated/streamhouse.js';
