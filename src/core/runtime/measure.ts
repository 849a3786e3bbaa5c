/**
 * Measured deltas between an original model and a changed one: size, output
 * fidelity on the same inputs, and latency from interleaved A/B rounds in the
 * same runtime process, so that both see the same machine noise.
 */
import * as path from 'node:path';
import { InvalidArgumentError, ModelFormatError, quote, TensorDataError } from '../errors';
import { OnnxModel } from '../model/onnx-model';
import { classScoreTest, compareOutputs, OutputFidelity } from './fidelity';
import { InputOptions, InputSpec, inputSpecs, PreparedInput, PreparedInputs, prepareInputs } from './inputs';
import { LatencyChange, latencyChange, LatencySummary, summarizeLatency } from './latency';
import { LoadableModel, OrtRuntime, RuntimeSession } from './ort-runtime';
import { NamedTensor, RunTimes } from './protocol';
import { writeRuntimeCopy } from './runtime-copy';
import { compareSizes, measureSize, ModelSizeReport, SizeComparison } from './size';

/** A model file (external data next to it), or a model in memory that errors and reports call `name`. */
export type ModelSource = { readonly path: string } | { readonly name: string; readonly model: OnnxModel };

export type MeasureStage = 'size' | 'load' | 'outputs' | 'warm-up' | 'latency';

/** `done` of `total` steps of a stage are finished: models sized or loaded, input sets run, warm-up runs, timed rounds. */
export interface MeasureProgress {
  readonly stage: MeasureStage;
  readonly done: number;
  readonly total: number;
}

export interface MeasureOptions {
  readonly inputs?: InputOptions;
  /** Threads ONNX Runtime uses inside one operator: 1 gives the steadiest timings. */
  readonly threads?: number;
  /** Runs of each model before timing starts. */
  readonly warmupRuns?: number;
  /** Timed rounds; each runs every model once. A comparison with 0 rounds measures no latency. */
  readonly rounds?: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: MeasureProgress) => void;
}

export const DEFAULT_THREADS = 1;
export const DEFAULT_WARMUP_RUNS = 5;
export const DEFAULT_ROUNDS = 50;

export interface TimingSettings {
  readonly threads: number;
  readonly warmupRuns: number;
  readonly rounds: number;
}

export interface BenchmarkReport {
  readonly models: { readonly name: string; readonly latency: LatencySummary }[];
  /** With two models: the second's latency against the first's. */
  readonly change?: LatencyChange;
  readonly inputs: PreparedInput[];
  readonly settings: TimingSettings;
}

export interface LatencyComparison {
  readonly before: LatencySummary;
  readonly after: LatencySummary;
  readonly change: LatencyChange;
}

export interface ComparisonReport {
  readonly before: string;
  readonly after: string;
  readonly inputs: PreparedInput[];
  readonly inputSets: number;
  readonly size: SizeComparison;
  readonly outputs: OutputFidelity[];
  /** Absent when the comparison ran 0 rounds. */
  readonly latency?: LatencyComparison;
  readonly settings: TimingSettings;
}

interface OpenedModel {
  readonly name: string;
  readonly model: OnnxModel;
  /** The model as stored: the file, or the encoding of a model in memory. */
  readonly fileBytes: Uint8Array;
  readonly loadable: LoadableModel;
  /** Removes the temporary copy the runtime loads, where one was written. */
  readonly release?: () => Promise<void>;
}

/** Latency of one model, or of two interleaved round by round with the change from the first to the second. */
export async function benchmarkModels(runtime: OrtRuntime, sources: readonly ModelSource[], options: MeasureOptions = {}): Promise<BenchmarkReport> {
  if (sources.length < 1 || sources.length > 2) throw new RangeError(`benchmarkModels takes one or two models, not ${sources.length}.`);
  const settings = timingSettings(options, 1);
  return withOpened(sources, options.signal, (models) => benchmarkOpened(runtime, models, settings, options));
}

async function benchmarkOpened(runtime: OrtRuntime, models: OpenedModel[], settings: TimingSettings, options: MeasureOptions): Promise<BenchmarkReport> {
  const inputs = await preparedInputsFor(models, { ...options.inputs, samples: 1 });
  const feeds = inputs.sets[0];
  const times = await withSessions(runtime, models, settings.threads, options, async (sessions) => {
    // A checked run first: a model that fails is then named alone, not as one of a pair being timed.
    await runtime.run(sessions, feeds, options.signal);
    return timeSessions(runtime, sessions, feeds, settings, options);
  });
  return {
    models: models.map((model, index) => ({ name: model.name, latency: summarizeLatency(times[index]) })),
    change: times.length === 2 ? latencyChange(times[0].wallMs, times[1].wallMs) : undefined,
    inputs: inputs.inputs,
    settings,
  };
}

/** Size, output fidelity and latency of `after` against `before`, on the same inputs. */
export async function compareModels(runtime: OrtRuntime, before: ModelSource, after: ModelSource, options: MeasureOptions = {}): Promise<ComparisonReport> {
  const settings = timingSettings(options, 0);
  return withOpened([before, after], options.signal, (models) => compareOpened(runtime, models, settings, options));
}

async function compareOpened(runtime: OrtRuntime, models: OpenedModel[], settings: TimingSettings, options: MeasureOptions): Promise<ComparisonReport> {
  const inputs = await preparedInputsFor(models, options.inputs ?? {});
  const size = await compareModelSizes(models, options);
  const measured = await withSessions(runtime, models, settings.threads, options, async ([original, changed]) => {
    const outputs = await runBoth(runtime, original, changed, inputs, options);
    const times = settings.rounds > 0 ? await timeSessions(runtime, [original, changed], inputs.sets[0], settings, options) : undefined;
    return { outputs, times };
  });
  const [timesBefore, timesAfter] = measured.times ?? [];
  return {
    before: models[0].name,
    after: models[1].name,
    inputs: inputs.inputs,
    inputSets: inputs.sets.length,
    size,
    outputs: compareOutputs(measured.outputs.original, measured.outputs.changed, classScoreTest(models[0].model.proto)),
    latency: timesBefore && timesAfter
      ? { before: summarizeLatency(timesBefore), after: summarizeLatency(timesAfter), change: latencyChange(timesBefore.wallMs, timesAfter.wallMs) }
      : undefined,
    settings,
  };
}

async function compareModelSizes(models: readonly OpenedModel[], options: MeasureOptions): Promise<SizeComparison> {
  const sizes: ModelSizeReport[] = [];
  for (const [index, model] of models.entries()) {
    options.onProgress?.({ stage: 'size', done: index, total: models.length });
    sizes.push(await measureSize(model.model, model.fileBytes, options.signal));
  }
  return compareSizes(sizes[0], sizes[1]);
}

/** Opens the sources, runs `work` on them, and removes the temporary copies it wrote, however `work` ends. */
async function withOpened<T>(sources: readonly ModelSource[], signal: AbortSignal | undefined, work: (models: OpenedModel[]) => Promise<T>): Promise<T> {
  const opened = await Promise.allSettled(sources.map((source) => openSource(source, signal)));
  const models = opened.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  try {
    const failed = opened.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (failed) throw failed.reason;
    return await work(models);
  } finally {
    await Promise.all(models.map((model) => model.release?.()));
  }
}

async function openSource(source: ModelSource, signal?: AbortSignal): Promise<OpenedModel> {
  if ('path' in source) {
    const model = await OnnxModel.open(source.path).catch((error: unknown) => {
      throw withModelName(error, source.path);
    });
    // Absolute: the runtime process resolves external data next to the file.
    return { name: source.path, model, fileBytes: model.bytes, loadable: { name: source.path, path: path.resolve(source.path), proto: model.proto } };
  }
  if (source.model.weights().some((weight) => weight.tensor.storage === 'external')) return openRuntimeCopy(source.name, source.model, signal);
  const bytes = source.model.encode();
  return { name: source.name, model: source.model, fileBytes: bytes, loadable: { name: source.name, bytes, proto: source.model.proto } };
}

async function openRuntimeCopy(name: string, model: OnnxModel, signal?: AbortSignal): Promise<OpenedModel> {
  const copy = await writeRuntimeCopy(model, signal);
  try {
    const written = await OnnxModel.open(copy.path);
    return { name, model: written, fileBytes: written.bytes, loadable: { name, path: copy.path, proto: model.proto }, release: async () => {
      await written.close();
      await copy.remove();
    } };
  } catch (error) {
    await copy.remove();
    throw error;
  }
}

/** Decoding errors name the byte offset or tensor; with two models, the reader also needs to know which. */
function withModelName(error: unknown, name: string): unknown {
  if (error instanceof ModelFormatError) return new ModelFormatError(`${quote(name)}: ${error.message}`, error.byteOffset);
  if (error instanceof TensorDataError) return new TensorDataError(`${quote(name)}: ${error.message}`, error.tensorName);
  return error;
}

/** Inputs from the first model's declared inputs; every other model must take the same. */
async function preparedInputsFor(models: readonly OpenedModel[], options: InputOptions): Promise<PreparedInputs> {
  const [first, ...others] = models.map((model) => inputSpecs(model.model.proto, model.name));
  others.forEach((specs, index) => checkSameInputs(first, specs, models[0].name, models[index + 1].name));
  return prepareInputs(first, models[0].name, options);
}

function checkSameInputs(expected: readonly InputSpec[], actual: readonly InputSpec[], expectedName: string, actualName: string): void {
  const signature = (specs: readonly InputSpec[]) => specs.map((spec) => `${spec.name}: ${spec.type}`).sort().join(', ');
  if (signature(expected) !== signature(actual)) {
    throw new InvalidArgumentError(
      `${quote(actualName)} takes other inputs (${signature(actual)}) than ${quote(expectedName)} (${signature(expected)}), so they cannot be fed the same.`);
  }
}

async function withSessions<T>(
  runtime: OrtRuntime, models: readonly OpenedModel[], threads: number, options: MeasureOptions,
  work: (sessions: RuntimeSession[]) => Promise<T>,
): Promise<T> {
  const sessions: RuntimeSession[] = [];
  try {
    for (const [index, model] of models.entries()) {
      options.onProgress?.({ stage: 'load', done: index, total: models.length });
      sessions.push(await runtime.load(model.loadable, { intraOpThreads: threads }, options.signal));
    }
    return await work(sessions);
  } finally {
    // A failed release must not hide why the work failed; the sessions end with their process anyway.
    await runtime.release(sessions).catch(() => undefined);
  }
}

async function runBoth(
  runtime: OrtRuntime, original: RuntimeSession, changed: RuntimeSession, inputs: PreparedInputs, options: MeasureOptions,
): Promise<{ original: NamedTensor[][]; changed: NamedTensor[][] }> {
  const outputs = { original: [] as NamedTensor[][], changed: [] as NamedTensor[][] };
  for (const [index, feeds] of inputs.sets.entries()) {
    options.onProgress?.({ stage: 'outputs', done: index, total: inputs.sets.length });
    const [fromOriginal, fromChanged] = await runtime.run([original, changed], feeds, options.signal);
    outputs.original.push(fromOriginal);
    outputs.changed.push(fromChanged);
  }
  return outputs;
}

function timeSessions(
  runtime: OrtRuntime, sessions: readonly RuntimeSession[], feeds: readonly NamedTensor[], settings: TimingSettings, options: MeasureOptions,
): Promise<RunTimes[]> {
  const onProgress = (done: number) => options.onProgress?.(done <= settings.warmupRuns
    ? { stage: 'warm-up', done, total: settings.warmupRuns }
    : { stage: 'latency', done: done - settings.warmupRuns, total: settings.rounds });
  return runtime.time(sessions, feeds, { warmupRuns: settings.warmupRuns, rounds: settings.rounds }, options.signal, onProgress);
}

function timingSettings(options: MeasureOptions, minimumRounds: number): TimingSettings {
  const settings = {
    threads: options.threads ?? DEFAULT_THREADS,
    warmupRuns: options.warmupRuns ?? DEFAULT_WARMUP_RUNS,
    rounds: options.rounds ?? DEFAULT_ROUNDS,
  };
  const check = (name: string, value: number, minimum: number) => {
    if (!Number.isInteger(value) || value < minimum) throw new RangeError(`options.${name} must be a whole number of at least ${minimum}, not ${value}.`);
  };
  check('threads', settings.threads, 1);
  check('warmupRuns', settings.warmupRuns, 0);
  check('rounds', settings.rounds, minimumRounds);
  return settings;
}
