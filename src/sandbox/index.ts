// Public surface of the sandbox.
export { type IsolationReport, probeIsolation } from "./isolation.ts";
export { findRunner, RUNNERS } from "./runners/index.ts";
export { type RunOptions, Sandbox, type SandboxOptions } from "./sandbox.ts";
export * from "./types.ts";
