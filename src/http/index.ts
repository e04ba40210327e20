export { AgentMetrics, MAX_TOPIC_LABELS, type AgentGauges } from './agentMetrics.js';
export { HttpPort, type HttpPortOptions } from './httpPort.js';
export { ReadinessCheck, type Readiness } from './readiness.js';
export { InstrumentedObjectStore, instrumentMetadataStore } from './instrumentedStores.js';
