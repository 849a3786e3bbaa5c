/**
 * Hot-exit backups of an edited model: the model file, plus a data file for
 * the tensors that exist only in this process (a pass's scratch space). Tensors
 * the original keeps in external data are referred to, not copied, so backing
 * up an edit of a 4 GB model writes only what the edit changed.
 */
import * as path from 'node:path';
import { promises as fs } from 'node:fs';
import { FolderExternalDataReader } from '../tensor/external-data';
import { isScratchLocation, routeExternalData } from '../tensor/scratch-data';
import { defaultDataLocation } from './model-writer';
import { OnnxModel } from './onnx-model';

export async function writeBackup(model: OnnxModel, destination: string): Promise<void> {
  await fs.mkdir(path.dirname(destination), { recursive: true });
  await model.save(destination, { externalData: 'auto', referenceInPlace: (location) => !isScratchLocation(location) });
}


/** Opens a backup of the model at `originalPath`: its own data beside it, the rest from the original's folder. */
export async function openBackup(backupPath: string, originalPath: string): Promise<OnnxModel> {
  const bytes = await fs.readFile(backupPath);
  const backupData = new Map([[defaultDataLocation(backupPath), new FolderExternalDataReader(path.dirname(backupPath))]]);
  const externalData = routeExternalData(new FolderExternalDataReader(path.dirname(path.resolve(originalPath))), backupData);
  return OnnxModel.fromBytes(bytes, { externalData });
}
