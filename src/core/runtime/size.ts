/**
 * What a model costs to store and to ship: raw bytes and gzip bytes, for the
 * model (its file and the external data files it uses) and per layer (the
 * weights each node consumes).
 */
import { createReadStream, promises as fs } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { createGzip, gzip } from 'node:zlib';
import { OnnxModel } from '../model/onnx-model';
import { Layer, WeightInfo } from '../model/weights';
import { FolderExternalDataReader } from '../tensor/external-data';

const gzipBytes = promisify(gzip);

export interface SizeFigures {
  readonly raw: number;
  readonly gzip: number;
}

export interface LayerSize extends SizeFigures {
  /** Scope and node: "Conv_3", or "main/If_0.then_branch/Conv_3" inside a subgraph. */
  readonly layer: string;
  readonly opType: string;
}

export interface ModelSizeReport {
  /** The model file and its external data files together. */
  readonly total: SizeFigures;
  readonly externalFiles: number;
  /** Weights a layer shares with another count in both. */
  readonly layers: LayerSize[];
}

export interface LayerSizeChange {
  readonly layer: string;
  /** Absent where the layer exists in only one of the models (a pass renamed or replaced the node). */
  readonly before?: LayerSize;
  readonly after?: LayerSize;
}

export interface SizeComparison {
  readonly before: ModelSizeReport;
  readonly after: ModelSizeReport;
  readonly layers: LayerSizeChange[];
}

/** `fileBytes` is the model as stored: the file's bytes, or the encoding of a model in memory. */
export async function measureSize(model: OnnxModel, fileBytes: Uint8Array, signal?: AbortSignal): Promise<ModelSizeReport> {
  const external = await externalFiles(model);
  let total = { raw: fileBytes.byteLength, gzip: (await gzipBytes(fileBytes)).byteLength };
  for (const file of external) {
    signal?.throwIfAborted();
    total = add(total, await fileSize(file));
  }
  const layers: LayerSize[] = [];
  for (const layer of model.layers()) {
    signal?.throwIfAborted();
    layers.push(await layerSize(layer));
  }
  return { total, externalFiles: external.length, layers };
}

export function compareSizes(before: ModelSizeReport, after: ModelSizeReport): SizeComparison {
  const afterByName = new Map(after.layers.map((layer) => [layer.layer, layer]));
  const beforeNames = new Set(before.layers.map((layer) => layer.layer));
  return {
    before,
    after,
    layers: [
      ...before.layers.map((layer) => ({ layer: layer.layer, before: layer, after: afterByName.get(layer.layer) })),
      ...after.layers.filter((layer) => !beforeNames.has(layer.layer)).map((layer) => ({ layer: layer.layer, after: layer })),
    ],
  };
}

async function layerSize(layer: Layer): Promise<LayerSize> {
  const tensors = layer.weights.flatMap(({ weight, viaDequantize }) => (viaDequantize ? withQuantizationParameters(weight) : [weight]));
  const bytes = await Promise.all(tensors.map((weight) => weight.tensor.rawBytes()));
  const node = layer.node;
  return {
    layer: node.scope === 'main' ? node.label : `${node.scope}/${node.label}`,
    opType: node.domain ? `${node.domain}:${node.opType}` : node.opType,
    raw: bytes.reduce((total, part) => total + part.byteLength, 0),
    gzip: (await gzipBytes(Buffer.concat(bytes))).byteLength,
  };
}

/** A quantized weight stores its scale and zero point beside it: they are part of what the layer costs. */
function withQuantizationParameters(weight: WeightInfo): WeightInfo[] {
  const { scale, zeroPoint } = weight.dequantization!;
  return [weight, ...(scale ? [scale] : []), ...(zeroPoint ? [zeroPoint] : [])];
}

/** The external data files the model's weights use, as absolute paths. */
async function externalFiles(model: OnnxModel): Promise<string[]> {
  const reader = model.externalData;
  const locations = new Set<string>();
  for (const weight of model.weights()) {
    for (const tensor of [weight.tensor, weight.sparse?.indices]) {
      if (tensor?.externalLocation) locations.add(tensor.externalLocation.location);
    }
  }
  if (locations.size === 0 || !(reader instanceof FolderExternalDataReader)) return [];
  return Promise.all([...locations].map((location) => reader.resolveInside({ tensorName: location, location })));
}

async function fileSize(file: string): Promise<SizeFigures> {
  const { size } = await fs.stat(file);
  let compressed = 0;
  const counter = new Writable({
    write(chunk: Buffer, _encoding, done) {
      compressed += chunk.byteLength;
      done();
    },
  });
  await pipeline(createReadStream(file), createGzip(), counter);
  return { raw: size, gzip: compressed };
}

function add(a: SizeFigures, b: SizeFigures): SizeFigures {
  return { raw: a.raw + b.raw, gzip: a.gzip + b.gzip };
}
