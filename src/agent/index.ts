/** `streamhouse/agent`: run an agent in your own process. */
export { Agent, startAgent } from './agent.js';
export { resolveAgentOptions, type AgentOptions, type ResolvedAgentOptions } from './agentOptions.js';
export type { AgentTlsOptions, ClientAuth } from './tls/tlsOptions.js';
export { principalOf } from './tls/principal.js';
