/** Per-layer weight analysis: statistics, histograms, pruning and quantization estimates. */
export * from './report';
export { analyzeModel } from './analyze-model';
export type { AnalyzeOptions } from './analyze-model';
export { analyzeValues, NonFiniteValuesError, HISTOGRAM_BINS, INT4_BLOCK_SIZE } from './analyze-values';
export type { AnalysisAxes } from './analyze-values';
export { analysisAxesOf } from './channel-axes';
export { pruneAtThreshold } from './prune-query';
export type { ThresholdAnswer } from './prune-query';
export { PRUNE_SPARSITIES, MAX_ENERGY_LOSS } from './pruning';
export { CDF_RESOLUTION } from './magnitude-bins';
export { openModelShared } from './shared-model';
export { AnalysisCancelledError, AnalysisWorkerError } from './analysis-errors';
