import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { ModelFileError, quote } from '../errors';
import { OnnxModel } from '../model/onnx-model';
import { FolderExternalDataReader } from '../tensor/external-data';

/**
 * Opens a model as OnnxModel.open does, but with the file's bytes in shared
 * memory: tensors are then views that worker threads read where they are,
 * so analyzeModel copies nothing to hand them over.
 */
export async function openModelShared(filePath: string): Promise<OnnxModel> {
  const bytes = await readIntoSharedMemory(filePath);
  return OnnxModel.fromBytes(bytes, { externalData: new FolderExternalDataReader(path.dirname(path.resolve(filePath))) });
}

async function readIntoSharedMemory(filePath: string): Promise<Uint8Array> {
  const handle = await fs.open(filePath, 'r').catch((error: NodeJS.ErrnoException) => {
    throw new ModelFileError(`Cannot open ${quote(filePath)}: ${error.code === 'ENOENT' ? 'the file does not exist' : error.message}.`, filePath);
  });
  try {
    const stat = await handle.stat();
    if (stat.isDirectory()) throw new ModelFileError(`Cannot open ${quote(filePath)}: it is a folder.`, filePath);
    const bytes = new Uint8Array(new SharedArrayBuffer(stat.size));
    let filled = 0;
    while (filled < bytes.length) {
      const { bytesRead } = await handle.read(bytes, filled, bytes.length - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return bytes.subarray(0, filled);
  } finally {
    await handle.close();
  }
}
