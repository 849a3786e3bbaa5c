import { OnnxModel } from '../model/onnx-model';
import { InvalidArgumentError, quote } from '../errors';
import { dequantize, INT4_SYMMETRIC_MAX, quantizeBlockwise, sqnrDb, SymmetricQuantization } from '../quant/quantize-math';
import { attribute, makeNode } from './nodes';
import { finiteOrNull } from './quantize-int8';
import { registerSpecialCheck } from './registry';
import { PassRun, PlannedLayer, SkipWeight } from './run';
import { denseFloats, tensors } from './tensors';
import { PassOptions, PassResult } from './types';
import { WeightInfo } from '../model/weights';

export interface Int4Options extends PassOptions {
  /** Values along K that share a scale: a power of two, at least 16 (MatMulNBits' rule); 32 by default. */
  readonly blockSize?: number;
}

export const MICROSOFT_DOMAIN = 'com.microsoft';
const MICROSOFT_DOMAIN_VERSION = 1;
const DEFAULT_BLOCK_SIZE = 32;
const MIN_BLOCK_SIZE = 16;
const BITS = 4;
/** MatMulNBits stores q + 8 in each nibble: with no zero_points input, the zero point is 2^(bits-1). */
const NIBBLE_ZERO = 8;

registerSpecialCheck('int4', 'MatMul', (layer, targets, rewriter) => {
  if (targets[0].weight.dims.length !== 2) return `has a ${targets[0].weight.dims.length}-D weight; MatMulNBits needs a [K, N] matrix`;
  if (rewriter.isFunctionScope(layer.node.scope)) return 'sits in a function body, which would need its own com.microsoft import';
  return undefined;
});

/**
 * int4 block-wise weight-only quantization of MatMul: the node becomes
 * com.microsoft MatMulNBits, with the weight stored as 4-bit values (symmetric,
 * [-7, 7], one float scale per block of `blockSize` along K). The model gains
 * a com.microsoft import if it has none; its default opset is not touched.
 */
export async function quantizeInt4(model: OnnxModel, options: Int4Options = {}): Promise<PassResult> {
  const blockSize = checkedBlockSize(options.blockSize ?? DEFAULT_BLOCK_SIZE);
  const run = new PassRun('int4', model, options);
  const copies = new Map<WeightInfo, PackedWeight>();
  for (const planned of run.layers) {
    try {
      await convertLayer(run, planned, blockSize, copies);
    } catch (error) {
      if (!(error instanceof SkipWeight)) throw error;
      run.skip(planned, error.message);
    }
    run.step(run.layers.length);
  }
  for (const [weight, copy] of copies) {
    if (copy.uses === weight.uses.length && !run.rewriter.isGraphOutput(weight.name)) run.rewriter.removeWeight(weight);
    else run.notes.push(`Weight ${quote(weight.name)} is still read as float32 by other nodes, so it is kept beside its 4-bit copy.`);
  }
  if (copies.size > 0) run.rewriter.importDomain(MICROSOFT_DOMAIN, MICROSOFT_DOMAIN_VERSION);
  return run.finish();
}

interface PackedWeight {
  readonly packed: string;
  readonly scales: string;
  uses: number;
}

function checkedBlockSize(blockSize: number): number {
  if (!Number.isInteger(blockSize) || blockSize < MIN_BLOCK_SIZE || (blockSize & (blockSize - 1)) !== 0) {
    throw new InvalidArgumentError(`blockSize must be a power of two of at least ${MIN_BLOCK_SIZE}, not ${blockSize}.`);
  }
  return blockSize;
}

async function convertLayer(run: PassRun, planned: PlannedLayer, blockSize: number, copies: Map<WeightInfo, PackedWeight>): Promise<void> {
  const { weight } = planned.targets[0];
  const [k, n] = weight.dims;
  const copy = copies.get(weight) ?? await packWeight(run, weight, blockSize);
  copy.uses++;
  copies.set(weight, copy);
  const node = planned.layer.node.proto;
  const attributes = [attribute.int('K', k), attribute.int('N', n), attribute.int('bits', BITS), attribute.int('block_size', blockSize)];
  const name = run.rewriter.uniqueName(node.name ? `${node.name}_Q4` : `${weight.name}_MatMulNBits`);
  run.rewriter.replaceNode(planned.layer.node, [makeNode('MatMulNBits', [node.input![0], copy.packed, copy.scales], [node.output![0]], name, attributes, MICROSOFT_DOMAIN)]);
}

async function packWeight(run: PassRun, weight: WeightInfo, blockSize: number): Promise<PackedWeight> {
  const [k, n] = weight.dims;
  const values = await denseFloats(weight);
  const quantized = quantizeBlockwise(values, weight.dims, 0, blockSize, INT4_SYMMETRIC_MAX);
  if (!quantized.scales.every(Number.isFinite)) throw new SkipWeight(`Weight ${quote(weight.name)} holds infinite or NaN values, which int4 cannot represent.`);
  const rewriter = run.rewriter;
  const blocks = Math.ceil(k / blockSize);
  const packedDims = [n, blocks, (blockSize * BITS) / 8];
  const packed = tensors.uint8(rewriter.uniqueName(`${weight.name}_Q4`), packedDims, packColumns(quantized, k, n, blockSize));
  const scales = tensors.float32(rewriter.uniqueName(`${weight.name}_scales`), [n * blocks], scalesByColumn(quantized.scales, blocks, n));
  rewriter.addTensors(weight.scope, [packed, scales]);
  run.record(weight, {
    after: { dataType: 'uint8 (4-bit pairs)', dims: packedDims }, replacement: [packed, scales],
    sqnrDb: finiteOrNull(sqnrDb(values, dequantize(quantized, weight.dims, { axis: 0, blockSize }))),
    scheme: `int4 block-wise (block ${blockSize} along K), MatMulNBits`,
  });
  return { packed: packed.name, scales: scales.name, uses: 0 };
}

/** MatMulNBits' B: for each column n, its blocks along K, two values a byte, low nibble first; K padded with zeros. */
function packColumns(quantized: SymmetricQuantization, k: number, n: number, blockSize: number): Uint8Array {
  const blocks = Math.ceil(k / blockSize);
  const bytesPerColumn = (blocks * blockSize) / 2;
  const packed = new Uint8Array(n * bytesPerColumn).fill(NIBBLE_ZERO | (NIBBLE_ZERO << 4));
  for (let column = 0; column < n; column++) {
    for (let row = 0; row < k; row++) {
      const nibble = quantized.values[row * n + column] + NIBBLE_ZERO;
      const index = column * bytesPerColumn + (row >> 1);
      packed[index] = row & 1 ? (packed[index] & 0x0f) | (nibble << 4) : (packed[index] & 0xf0) | nibble;
    }
  }
  return packed;
}

/** quantizeBlockwise lays scales out as [blocks, N]; MatMulNBits wants [N, blocks]. */
function scalesByColumn(scales: Float32Array, blocks: number, n: number): Float32Array {
  const out = new Float32Array(scales.length);
  for (let block = 0; block < blocks; block++) {
    for (let column = 0; column < n; column++) out[column * blocks + block] = scales[block * n + column];
  }
  return out;
}
