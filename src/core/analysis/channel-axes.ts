/**
 * Which axis of a weight holds the output channels, and which axes its int4
 * blocks run along (the axes the op sums over), as the consuming op defines
 * them. A weight used by several ops takes the first op with a rule.
 */
import { onnx } from '../proto';
import { int64ToSafeNumber } from '../onnx/int64';
import { WeightInfo, WeightUse } from '../model/weights';
import { AnalysisAxes } from './analyze-values';

type AxisRule = (rank: number, node: onnx.INodeProto) => AnalysisAxes;

const axes = (channelAxis: number, firstBlockAxis: number, lastBlockAxis = firstBlockAxis): AnalysisAxes =>
  ({ channelAxis, blockAxes: [firstBlockAxis, lastBlockAxis] });

/** Output channels first, summed over everything after them: PyTorch's [out, in, kernel...]. */
const OUTPUT_FIRST: AxisRule = (rank) => axes(0, 1, rank - 1);
const RECURRENT_WEIGHT: AxisRule = () => axes(1, 2);

/** Rules per op type and input slot, for weights of rank 2 and above. */
const RULES: Record<string, Record<number, AxisRule>> = {
  // W [M, C/group, k...]: each output channel sums over input channels and kernel positions.
  Conv: { 1: OUTPUT_FIRST },
  // W [C, M/group, k...]: output channels second, summed over the input channels first.
  ConvTranspose: { 1: () => axes(1, 0) },
  // y = A · B with A [M, K] and B [K, N]; transA and transB swap them.
  Gemm: {
    0: (_rank, node) => (attribute(node, 'transA') ? axes(1, 0) : axes(0, 1)),
    1: (_rank, node) => (attribute(node, 'transB') ? axes(0, 1) : axes(1, 0)),
  },
  MatMul: { 0: (rank) => axes(rank - 2, rank - 1), 1: (rank) => axes(rank - 1, rank - 2) },
  // W [directions, gates · hidden, input], R [directions, gates · hidden, hidden].
  LSTM: { 1: RECURRENT_WEIGHT, 2: RECURRENT_WEIGHT },
  GRU: { 1: RECURRENT_WEIGHT, 2: RECURRENT_WEIGHT },
  RNN: { 1: RECURRENT_WEIGHT, 2: RECURRENT_WEIGHT },
  // An embedding table [vocabulary, features]: one row per token.
  Gather: { 0: (rank) => axes(0, rank - 1) },
};

export function analysisAxesOf(weight: WeightInfo): AnalysisAxes {
  const rank = weight.dims.length;
  if (rank < 2) return {};
  const uses: WeightUse[] = weight.dequantization?.uses ?? weight.uses;
  for (const use of uses) {
    const rule = isDefaultDomain(use.node.domain) ? RULES[use.node.opType]?.[use.inputIndex] : undefined;
    const chosen = rule?.(rank, use.node.proto);
    // A malformed model can hand an op a weight of a rank its rule does not expect (a rank-2 LSTM weight): no rule then.
    if (chosen && withinRank(chosen, rank)) return chosen;
  }
  // Ops without a rule (Slice, Reshape, Mul...) get PyTorch's layout.
  return OUTPUT_FIRST(rank, {});
}

function withinRank(chosen: AnalysisAxes, rank: number): boolean {
  return [chosen.channelAxis ?? 0, ...(chosen.blockAxes ?? [])].every((axis) => axis >= 0 && axis < rank);
}

function attribute(node: onnx.INodeProto, name: string): number {
  const value = node.attribute?.find((a) => a.name === name)?.i;
  return value === undefined || value === null ? 0 : int64ToSafeNumber(value) ?? 0;
}

function isDefaultDomain(domain: string): boolean {
  return domain === '' || domain === 'ai.onnx';
}
