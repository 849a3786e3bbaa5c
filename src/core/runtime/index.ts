/**
 * Measured deltas with ONNX Runtime, which runs in a child process of its own
 * (ort-child.ts, deliberately not exported: it is that process's entry point).
 */
export * from './measure';
export * from './ort-runtime';
export * from './runtime-errors';
export * from './inputs';
export * from './fidelity';
export * from './latency';
export * from './size';
export type { ElementType, NamedTensor, RunTimes, SessionSettings, TensorData } from './protocol';
