// Types of sip-agent.js, the phone without its UI (the library build). The
// declarations are shared with sip-phone.js: see sip-phone.d.ts.
import type { Agent, AgentConfig } from './sip-phone.js';

export type { Agent, AgentConfig } from './sip-phone.js';
export declare function createAgent(config?: AgentConfig): Promise<Agent>;
export default createAgent;
