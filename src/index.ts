/** StreamHouse public API. */
export * from './protocol/index.js';
