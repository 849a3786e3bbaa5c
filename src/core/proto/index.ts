/** The ONNX protobuf messages, generated from onnx.proto by scripts/generate-schema.mjs. */
export { onnx } from './generated/onnx';
