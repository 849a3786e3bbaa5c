/**
 * A model in memory whose tensors live outside its message (the original's
 * external data, a pass's scratch space) cannot reach ONNX Runtime as bytes.
 * It is written as a hidden temporary file in the original's folder that
 * refers to the original's data in place (ONNX Runtime resolves data next to
 * the model), with only the computed tensors in a temporary data file beside
 * it; where that folder cannot be written, whole into the system's temporary folder.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { removeWrittenModel } from '../model/model-writer';
import { OnnxModel } from '../model/onnx-model';
import { dataFolderOf, isScratchLocation } from '../tensor/scratch-data';

export interface RuntimeCopy {
  readonly path: string;
  readonly remove: () => Promise<void>;
}

export async function writeRuntimeCopy(model: OnnxModel, signal?: AbortSignal): Promise<RuntimeCopy> {
  const name = `.onnx-lens-runtime-${process.pid}-${randomBytes(4).toString('hex')}.onnx`;
  const folder = dataFolderOf(model.externalData);
  if (folder) {
    const beside = path.join(folder, name);
    const written = await model.save(beside, { externalData: 'always', referenceInPlace: (location) => !isScratchLocation(location), signal })
      .then(() => true, (error: unknown) => {
        if ((error as Error).name === 'AbortError') throw error;
        return false;
      });
    if (written) return { path: beside, remove: () => removeWrittenModel(beside) };
  }
  const own = await fs.mkdtemp(path.join(tmpdir(), 'onnx-lens-runtime-'));
  const whole = path.join(own, name);
  await model.save(whole, { externalData: 'always', signal });
  return { path: whole, remove: () => fs.rm(own, { recursive: true, force: true }) };
}
