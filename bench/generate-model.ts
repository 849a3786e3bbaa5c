/**
 * Writes the benchmark's model: a stack of fully-connected layers (MatMul by a
 * float32 weight matrix, then Add a bias) with random values, built with the
 * tests' model builder over the project's own schema.
 *
 * The file is streamed one layer at a time instead of encoding the whole model
 * at once, which would hold every tensor and the encoded file in memory together.
 * That works because a repeated protobuf field may arrive in several pieces:
 * the graph is written as its nodes, then one GraphProto fragment per layer
 * holding that layer's initializers, all under one length-delimited graph field.
 */
import { createWriteStream, existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Writer } from 'protobufjs/minimal';
import { onnx } from '../src/core';
import { DataType, encode, graph, model, node, randomFloats, rawTensor, valueInfo } from '../test/support/model-builder';

export interface StackShape {
  readonly layers: number;
  /** Each layer maps `width` features to `width` features. */
  readonly width: number;
}

const GRAPH_FIELD_NUMBER = 7; // ModelProto.graph in onnx.proto
const LENGTH_DELIMITED_WIRE_TYPE = 2;
const WEIGHT_SCALE = 0.05;
const BATCH_DIM = 'batch';

/** Writes the model to `filePath` unless a complete one is already there. */
export async function ensureStackModel(filePath: string, shape: StackShape): Promise<void> {
  if (existsSync(filePath)) return;
  await fs.mkdir(path.dirname(filePath), { recursive: true });
  const partial = `${filePath}.partial`;
  await pipeline(Readable.from(modelChunks(shape)), createWriteStream(partial));
  await fs.rename(partial, filePath);
}

function* modelChunks(shape: StackShape): Generator<Uint8Array> {
  const nodesOnly = graph({
    name: 'fc-stack', nodes: stackNodes(shape), inputs: [io(activation(0), shape)], outputs: [io(activation(shape.layers), shape)],
  });
  const graphHead = onnx.GraphProto.encode(nodesOnly).finish();
  yield encode({ ...model(nodesOnly), graph: null });
  yield fieldHeader(GRAPH_FIELD_NUMBER, graphHead.length + initializersLength(shape));
  yield graphHead;
  for (let layer = 0; layer < shape.layers; layer++) {
    yield onnx.GraphProto.encode(layerInitializers(shape, layer)).finish();
  }
}

/** Total encoded size of every layer's initializers; an unfinished writer knows its length without copying the values. */
function initializersLength(shape: StackShape): number {
  let total = 0;
  for (let layer = 0; layer < shape.layers; layer++) total += onnx.GraphProto.encode(layerInitializers(shape, layer)).len;
  return total;
}

function fieldHeader(fieldNumber: number, length: number): Uint8Array {
  return Writer.create().uint32((fieldNumber << 3) | LENGTH_DELIMITED_WIRE_TYPE).uint32(length).finish();
}

const activation = (layer: number) => (layer === 0 ? 'input' : `hidden${layer}`);
const weightName = (layer: number) => `layer${layer}.weight`;
const biasName = (layer: number) => `layer${layer}.bias`;

function io(name: string, shape: StackShape): onnx.ValueInfoProto {
  return valueInfo(name, DataType.FLOAT, [BATCH_DIM, shape.width]);
}

function stackNodes(shape: StackShape): onnx.NodeProto[] {
  const nodes: onnx.NodeProto[] = [];
  for (let layer = 0; layer < shape.layers; layer++) {
    const product = `layer${layer}.product`;
    nodes.push(
      node('MatMul', [activation(layer), weightName(layer)], [product], [], `layer${layer}/MatMul`),
      node('Add', [product, biasName(layer)], [activation(layer + 1)], [], `layer${layer}/Add`),
    );
  }
  return nodes;
}

/** A GraphProto fragment holding only one layer's weight and bias; values are seeded by layer, so every call gives the same bytes. */
function layerInitializers(shape: StackShape, layer: number): onnx.IGraphProto {
  const { width } = shape;
  return {
    initializer: [
      randomFloatTensor(weightName(layer), [width, width], 2 * layer + 1),
      randomFloatTensor(biasName(layer), [width], 2 * layer + 2),
    ],
  };
}

function randomFloatTensor(name: string, dims: number[], seed: number): onnx.TensorProto {
  const count = dims.reduce((a, b) => a * b, 1);
  return rawTensor(name, DataType.FLOAT, dims, new Uint8Array(randomFloats(count, seed, WEIGHT_SCALE).buffer));
}
