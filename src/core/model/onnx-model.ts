import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { ModelFileError, quote } from '../errors';
import { decodeModel, encodeModel } from '../onnx/codec';
import { onnx } from '../proto';
import { ExternalDataReader, FolderExternalDataReader, isExternal, parseExternalLocation } from '../tensor/external-data';
import { isScratchLocation } from '../tensor/scratch-data';
import { tensorsOf, writeModel, WriteModelOptions, WrittenModel } from './model-writer';
import { ModelOverview, summarizeModel } from './overview';
import { discoverWeights, Layer, listLayers, WeightInfo } from './weights';

export interface OpenOptions {
  /** Reads tensors stored outside the model file; by default none can be read. */
  readonly externalData?: ExternalDataReader;
}

/**
 * A decoded model and everything found in it. The decoded message keeps views
 * into `bytes` (raw_data is not copied), so `bytes` is owned by the model.
 */
export class OnnxModel {
  private cachedWeights?: WeightInfo[];

  private constructor(
    readonly proto: onnx.ModelProto,
    readonly bytes: Uint8Array,
    readonly externalData: ExternalDataReader | undefined,
  ) {}

  static fromBytes(bytes: Uint8Array, options: OpenOptions = {}): OnnxModel {
    const model = new OnnxModel(decodeModel(bytes), bytes, options.externalData);
    model.weights();
    return model;
  }

  /**
   * A model from a changed ModelProto (what a pass returns), reading external
   * data from the same place as this one (or from `externalData`, which a pass
   * gives when it stored new tensors on disk). Unchanged tensors stay shared views.
   */
  withProto(proto: onnx.ModelProto, externalData = this.externalData): OnnxModel {
    const model = new OnnxModel(proto, this.bytes, externalData);
    model.weights();
    return model;
  }

  static async open(filePath: string): Promise<OnnxModel> {
    const bytes = await readModelFile(filePath);
    const folder = path.dirname(path.resolve(filePath));
    const model = new OnnxModel(decodeModel(bytes), bytes, new FolderExternalDataReader(folder));
    model.weights();
    return model;
  }

  /** Every weight in the model (checked against its declared shape when first listed). */
  weights(): WeightInfo[] {
    this.cachedWeights ??= discoverWeights(this.proto, this.externalData);
    return this.cachedWeights;
  }

  layers(): Layer[] {
    return listLayers(this.weights());
  }

  overview(): ModelOverview {
    return summarizeModel(this.proto, this.weights());
  }

  encode(): Uint8Array {
    return encodeModel(this.proto);
  }

  /**
   * Saves atomically to `target` (see writeModel): inline, or with the weights
   * in one data file beside it, holding only the bytes this model reads.
   */
  save(target: string, options: WriteModelOptions = {}): Promise<WrittenModel> {
    return writeModel(this, target, options);
  }

  /** The one data file on disk that the model's external tensors live in, if there is exactly one. */
  singleDataLocation(): string | undefined {
    const locations = new Set(tensorsOf(this.proto).filter(isExternal).map((tensor) => parseExternalLocation(tensor).location));
    const onDisk = [...locations].filter((location) => !isScratchLocation(location));
    return onDisk.length === 1 ? onDisk[0] : undefined;
  }

  /** Closes the data files the model (and every model derived from it) reads; they reopen if read again. */
  async close(): Promise<void> {
    await this.externalData?.close?.();
  }
}

async function readModelFile(filePath: string): Promise<Uint8Array> {
  try {
    return await fs.readFile(filePath);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'the file does not exist' : code === 'EISDIR' ? 'it is a folder' : (error as Error).message;
    throw new ModelFileError(`Cannot open ${quote(filePath)}: ${reason}.`, filePath);
  }
}
