/**
 * What the analysis reports about each weight and layer. Every shape here is
 * plain JSON (no typed arrays, no NaN or Infinity) and small: statistics,
 * bins and per-channel figures, never the weights themselves.
 */
import type { WeightOrigin } from '../model/weights';

export interface WeightStats {
  readonly count: number;
  readonly min: number;
  readonly max: number;
  readonly mean: number;
  /** Population standard deviation (divides by count). */
  readonly std: number;
  readonly maxAbs: number;
  readonly l1Norm: number;
  readonly l2Norm: number;
  /** Elements exactly 0 (for a quantized weight: equal to its zero point). */
  readonly zeros: number;
  /** Share of elements with |w| < 1e-3 · max|w|. */
  readonly nearZeroFraction: number;
  /** Excess kurtosis: 0 for a normal distribution, above 0 for heavy tails; null when std is 0. */
  readonly excessKurtosis: number | null;
  /** max|w| / std; null when std is 0. */
  readonly outlierRatio: number | null;
}

/** Equal-width bins from min to max; the last bin includes max. */
export interface LinearHistogram {
  readonly min: number;
  readonly max: number;
  readonly counts: number[];
}

/**
 * Bins of log10|w|, about equally wide; `edges` are the exact magnitudes
 * between bins (counts.length + 1 of them; bin k holds edges[k] ≤ |w| < edges[k+1]).
 * Zeros and magnitudes below edges[0] are counted apart.
 */
export interface LogHistogram {
  readonly edges: number[];
  readonly counts: number[];
  readonly zeros: number;
  readonly belowRange: number;
}

/** Figures per output channel: index c of each array is channel c along `axis`. */
export interface ChannelStats {
  readonly axis: number;
  readonly l1: number[];
  readonly l2: number[];
  readonly min: number[];
  readonly max: number[];
  readonly medianL2: number;
  /** Channels whose L2 norm is below 5% of the median channel's. */
  readonly dead: number[];
}

/** Removing the k = floor(sparsity · count) smallest magnitudes. */
export interface PruneLevel {
  readonly sparsity: number;
  /** The smallest magnitude kept: pruning |w| < threshold removes exactly those k unless values tie at it. */
  readonly threshold: number;
  readonly energyRemoved: number;
  readonly massRemoved: number;
}

/**
 * The cumulative distribution of |w| at a few hundred to a few thousand
 * magnitudes, exact at each: `elementsBelow[j]` elements, `energyBelow[j]` of
 * Σw² and `massBelow[j]` of Σ|w| lie strictly below `thresholds[j]`. Between
 * two thresholds no fraction moves by more than `resolution`, except across a
 * single fine bin (1/128 of a power of two) that holds more on its own.
 */
export interface MagnitudeCdf {
  readonly count: number;
  readonly resolution: number;
  readonly thresholds: number[];
  readonly elementsBelow: number[];
  readonly energyBelow: number[];
  readonly massBelow: number[];
}

export interface PruningAnalysis {
  readonly levels: PruneLevel[];
  /** The largest sparsity whose magnitude pruning removes at most `maxEnergyLoss` of Σw². */
  readonly headline: { readonly maxEnergyLoss: number; readonly sparsity: number; readonly energyRemoved: number; readonly threshold: number | null };
  readonly cdf: MagnitudeCdf;
}

export type QuantizationScheme = 'int8-per-tensor' | 'int8-per-channel' | 'int4-block32' | 'float16';

/** A quantize-then-dequantize round trip, actually performed. */
export interface QuantizationEstimate {
  readonly scheme: QuantizationScheme;
  /** lossy: sqnrDb is finite; lossless: the round trip is exact; overflow: a value became infinite (float16 beyond 65504). */
  readonly outcome: 'lossy' | 'lossless' | 'overflow';
  /** 10·log10(Σw² / Σ(w − ŵ)²); null unless lossy. */
  readonly sqnrDb: number | null;
  /** Storage after quantization: the values plus float32 scales. */
  readonly bytes: number;
}

export interface QuantizationAnalysis {
  readonly int8PerTensor: QuantizationEstimate;
  /** Absent for tensors without a channel axis (rank below 2). */
  readonly int8PerChannel?: QuantizationEstimate;
  readonly int4Block32: QuantizationEstimate;
  readonly float16: QuantizationEstimate;
  /** Per-channel int8 SQNR minus per-tensor int8 SQNR, in dB; absent unless both are lossy. */
  readonly perChannelGainDb?: number;
  /** Per-tensor int8 loses more than 6 dB against per-channel: a few channels dominate the range. */
  readonly outlierChannels: boolean;
}

/** Everything computed from one tensor's values. */
export interface WeightFigures {
  readonly stats: WeightStats;
  readonly histogram: LinearHistogram;
  readonly logHistogram: LogHistogram;
  readonly channels?: ChannelStats;
  readonly pruning: PruningAnalysis;
  readonly quantization: QuantizationAnalysis;
  /** Times the tensor's data was read or written end to end: the two analysis passes, plus any decoding copy. */
  readonly dataPasses: number;
}

export interface WeightIdentity {
  readonly id: string;
  readonly name: string;
  readonly scope: string;
  readonly origin: WeightOrigin;
  readonly dataType: string;
  readonly dims: readonly number[];
  readonly elementCount: number;
  readonly bytes: number;
}

/** Present when the figures are of real values (q − zeroPoint) · scale, not the stored integers. */
export interface RealValueSource {
  readonly dequantizedBy: string;
  readonly scale: string;
  readonly zeroPoint?: string;
  readonly axis: number;
  readonly blockSize: number;
}

/**
 * analyzed: the figures are there. skipped: not a weight to compress (a shape,
 * an index, a quantization scale...). failed: a weight whose values could not
 * be read or summarized (missing external data, NaN); the reason says which.
 */
export type WeightAnalysis =
  | (WeightIdentity & { readonly status: 'analyzed'; readonly realValues?: RealValueSource } & WeightFigures)
  | (WeightIdentity & { readonly status: 'skipped' | 'failed'; readonly reason: string });

/** A node with the weights it consumes, by weight id. */
export interface LayerAnalysis {
  readonly node: string;
  readonly scope: string;
  readonly opType: string;
  readonly weights: { readonly id: string; readonly inputIndex: number; readonly viaDequantize: boolean }[];
}

export interface ModelAnalysis {
  /** One per weight, in the model's order. */
  readonly weights: WeightAnalysis[];
  readonly layers: LayerAnalysis[];
  readonly analyzedWeights: number;
  readonly analyzedElements: number;
}

/** Sent after each weight: the weight just finished and the layers it completed. */
export interface AnalysisProgress {
  readonly weight: WeightAnalysis;
  readonly completedLayers: LayerAnalysis[];
  readonly weightsDone: number;
  readonly weightsTotal: number;
  readonly elementsDone: number;
  readonly elementsTotal: number;
}
