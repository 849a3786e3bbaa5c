import {
  convertFloat16, OnnxModel, PassOptions, PassResult, pruneChannels, pruneMagnitude, quantizeDynamicInt8, quantizeInt4, quantizeInt8,
} from '../core';
import { PruneCriterion, QuantizeMode } from './args';
import { formatBytes, printable, table } from './format';
import { CommandContext } from './measure-commands';

interface WriteFlags {
  readonly model: string;
  readonly output: string;
  readonly layers?: string[];
  /** Weights in a data file beside the output even where they would fit inline. */
  readonly externalData: boolean;
  readonly json: boolean;
}

export async function quantizeCommand(flags: WriteFlags & { mode: QuantizeMode; perTensor: boolean }, context: CommandContext): Promise<string> {
  return runAndSave(flags, context, (model, options) => {
    switch (flags.mode) {
      case 'int8': return quantizeInt8(model, { ...options, perTensor: flags.perTensor });
      case 'dynamic': return quantizeDynamicInt8(model, { ...options, perChannel: !flags.perTensor });
      case 'fp16': return convertFloat16(model, options);
      case 'int4': return quantizeInt4(model, options);
    }
  });
}

export async function pruneCommand(flags: WriteFlags & { criterion: PruneCriterion }, context: CommandContext): Promise<string> {
  const { kind, value } = flags.criterion;
  return runAndSave(flags, context, (model, options) => {
    switch (kind) {
      case 'threshold': return pruneMagnitude(model, { ...options, threshold: value });
      case 'sparsity': return pruneMagnitude(model, { ...options, sparsity: value });
      case 'global-sparsity': return pruneMagnitude(model, { ...options, globalSparsity: value });
      case 'channels': return pruneChannels(model, { ...options, fraction: value });
    }
  });
}

/** Opens the model, runs the pass, saves the result atomically to the output path and reports what changed. */
async function runAndSave(flags: WriteFlags, context: CommandContext, pass: (model: OnnxModel, options: PassOptions) => Promise<PassResult>): Promise<string> {
  const model = await OnnxModel.open(flags.model);
  const result = await pass(model, { layers: flags.layers, signal: context.signal });
  const written = await result.model.save(flags.output, { externalData: flags.externalData ? 'always' : 'auto', signal: context.signal });
  if (flags.json) return JSON.stringify({ output: flags.output, dataFile: written.dataFile?.location, report: result.report }, null, 2);
  const { report } = result;
  const lines = [
    report.summary,
    `Model ${formatBytes(report.modelBytes.before)} -> ${formatBytes(report.modelBytes.after)}, written to ${printable(flags.output, 200)}${written.dataFile ? ` with its weights in ${printable(written.dataFile.location, 200)}` : ''}`,
    '',
    table(['Weight', 'Scheme', 'Before', 'After', 'SQNR'], report.tensors.map((change) => [
      printable(change.name, 40), change.scheme, formatBytes(change.bytesBefore), formatBytes(change.bytesAfter),
      change.sqnrDb === null ? 'exact' : `${change.sqnrDb.toFixed(1)} dB`,
    ])),
    ...report.skipped.map((skip) => `skipped ${printable(skip.layer, 60)}: ${skip.reason}`),
    ...report.notes,
  ];
  return lines.join('\n');
}
