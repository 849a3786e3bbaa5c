import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { ModelFileError, quote } from '../errors';
import { copyFileInto, writeBytesAtomic, writeFileAtomic } from '../io/atomic-write';
import { pathExists, sameFileContent } from '../io/compare-files';
import { decodeModel, encodeModel } from '../onnx/codec';
import { onnx } from '../proto';
import { ExternalDataReader, FolderExternalDataReader } from '../tensor/external-data';
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
   * data from the same place as this one. Unchanged tensors stay shared views.
   */
  withProto(proto: onnx.ModelProto): OnnxModel {
    const model = new OnnxModel(proto, this.bytes, this.externalData);
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
   * Saves atomically to `target`. External data files stay where they are when
   * the target is in the same folder; otherwise each is copied next to the new
   * model under the same relative location, so the saved model loads from there.
   * A different file already at one of those places is never replaced: the save is refused first.
   */
  async save(target: string): Promise<void> {
    const targetFolder = path.dirname(path.resolve(target));
    const reader = this.externalData;
    if (reader instanceof FolderExternalDataReader && path.resolve(reader.folder) !== targetFolder) {
      await this.copyExternalFiles(reader, target);
    }
    await writeBytesAtomic(target, this.encode());
  }

  private externalLocations(): string[] {
    const locations = new Set<string>();
    for (const weight of this.weights()) {
      for (const tensor of [weight.tensor, weight.sparse?.indices]) {
        if (tensor?.externalLocation) locations.add(tensor.externalLocation.location);
      }
    }
    return [...locations];
  }

  /** Copies the data files next to `target`, skipping those already there with the same bytes (an earlier Save As). */
  private async copyExternalFiles(reader: FolderExternalDataReader, target: string): Promise<void> {
    const targetFolder = path.dirname(path.resolve(target));
    const copies: { source: string; destination: string }[] = [];
    for (const location of this.externalLocations()) {
      const source = await reader.resolveInside({ tensorName: location, location });
      const destination = path.join(targetFolder, location);
      if (!(await pathExists(destination))) copies.push({ source, destination });
      else if (!(await sameFileContent(source, destination))) {
        throw new ModelFileError(
          `Could not save ${quote(target)}: its external data ${quote(location)} would replace a different file of that name in ${quote(targetFolder)}. Nothing was saved.`, target);
      }
    }
    for (const { source, destination } of copies) {
      await fs.mkdir(path.dirname(destination), { recursive: true });
      await writeFileAtomic(destination, (handle) => copyFileInto(source, handle));
    }
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
