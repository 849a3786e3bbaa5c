import { analyzeModel, Layer, OnnxModel, WeightAnalysis } from '../core';
import type { Histogram, LayerStatistics } from '../shared/protocol';
import { layerId, layerIdOf, mainWeight } from './model-summary';

export interface StatisticsSink {
  onStatistics(statistics: LayerStatistics[]): void;
  onProgress(done: number, total: number): void;
}

/** How often statistics go to the webview: one message per weight would flood it on models of thousands of layers. */
const STREAM_INTERVAL_MS = 100;

/** Analyses the model in worker threads and streams the table layers' statistics as their weights are done, a batch at a time. */
export async function streamStatistics(model: OnnxModel, layers: readonly Layer[], signal: AbortSignal, sink: StatisticsSink): Promise<void> {
  const wanted = new Map(layers.map((layer) => [layerId(layer), layer]));
  const analysed = new Map<string, WeightAnalysis>();
  let pending: LayerStatistics[] = [];
  let lastSent = 0;
  await analyzeModel(model, {
    signal,
    onProgress: (progress) => {
      analysed.set(progress.weight.id, progress.weight);
      for (const done of progress.completedLayers) {
        const layer = wanted.get(layerIdOf(done.scope, done.node));
        const statistics = layer && toLayerStatistics(layer, analysed);
        if (statistics) pending.push(statistics);
      }
      const finished = progress.weightsDone === progress.weightsTotal;
      if (!finished && Date.now() - lastSent < STREAM_INTERVAL_MS) return;
      if (pending.length > 0) sink.onStatistics(pending);
      sink.onProgress(progress.weightsDone, progress.weightsTotal);
      pending = [];
      lastSent = Date.now();
    },
  });
}

function toLayerStatistics(layer: Layer, analysed: ReadonlyMap<string, WeightAnalysis>): LayerStatistics | undefined {
  const weight = analysed.get(mainWeight(layer).weight.id);
  if (!weight || weight.status !== 'analyzed') return undefined;
  const { stats, pruning, quantization, channels, logHistogram } = weight;
  const cdf = pruning.cdf;
  return {
    layerId: layerId(layer),
    mean: stats.mean,
    std: stats.std,
    min: stats.min,
    max: stats.max,
    sparsity: stats.zeros / stats.count,
    histogram: weight.histogram,
    logHistogram: logMagnitudeHistogram(logHistogram.edges, logHistogram.counts),
    curve: pruning.levels.map((level) => ({ sparsity: level.sparsity, threshold: level.threshold, energyRemoved: level.energyRemoved })),
    prunableSparsity: pruning.headline.sparsity,
    int8Sqnr: quantization.int8PerTensor.sqnrDb,
    int8PerChannelSqnr: quantization.int8PerChannel?.sqnrDb ?? null,
    outlierChannels: quantization.outlierChannels,
    channelNorms: channels?.l2 ?? [],
    deadChannels: channels?.dead.length ?? 0,
    thresholdTable: {
      thresholds: cdf.thresholds,
      sparsity: cdf.elementsBelow.map((below) => below / cdf.count),
      energy: cdf.energyBelow,
      resolution: cdf.resolution,
    },
  };
}

/** The log-magnitude bins as a histogram over log10|w|. */
function logMagnitudeHistogram(edges: readonly number[], counts: readonly number[]): Histogram {
  return { min: Math.log10(edges[0]), max: Math.log10(edges[edges.length - 1]), counts };
}
