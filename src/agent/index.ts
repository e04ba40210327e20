/** `streamhouse/agent`: run an agent in your own process. */
export { Agent, startAgent } from './agent.js';
export { AGENT_DEFAULTS } from './agentDefaults.js';
export { resolveAgentOptions, type AgentOptions, type ResolvedAgentOptions } from './agentOptions.js';
export type { AgentTlsOptions, ClientAuth } from './tls/tlsOptions.js';
export { principalOf } from './tls/principal.js';
export type { AuthMode, AuthOptions } from '../auth/authOptions.js';
export { readAuthFile, writeAuthFile } from '../auth/authFile.js';
