/** The ONNX Lens core: plain TypeScript over Node, shared by the extension, the CLI and the tests. */
export * from './errors';
export { decodeModel, encodeModel } from './onnx/codec';
export { onnx } from './proto';
export * from './tensor/dtypes';
export * from './tensor/external-data';
export * from './tensor/tensor-view';
export * from './model/onnx-model';
export * from './model/overview';
export * from './model/weights';
export { forEachGraphScope } from './model/graph-walk';
export type { GraphScope } from './model/graph-walk';
export { modelToText } from './model/text-format';
export type { TextLine } from './model/text-format';
export * from './runtime';
export * from './analysis';
export * from './passes';
