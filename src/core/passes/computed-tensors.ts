import { onnx } from '../proto';
import { ExternalDataReader, pointAtExternal } from '../tensor/external-data';
import { routeExternalData, ScratchData } from '../tensor/scratch-data';

/** Smaller tensors stay in memory: scales, zero points and shapes cost little and are read often. */
const MIN_STORED_BYTES = 4096;

/**
 * Where a pass keeps the tensors it computes: in memory, or, for a model too
 * large to hold (one that keeps its weights in external data), on disk in
 * scratch space, so that memory holds a few tensors at a time whatever the
 * model's size. A tensor moved to disk reads its values from there; the
 * result model's reader finds them (reader()).
 */
export class ComputedTensors {
  private scratch?: ScratchData;
  private pending: { tensor: onnx.ITensorProto; stored: Promise<{ offset: number; length: number }> }[] = [];

  constructor(readonly toDisk: boolean) {}

  /** Takes a new tensor of the working copy; its values may start moving to disk, and read from there after settled(). */
  keep(tensor: onnx.ITensorProto): void {
    const bytes = tensor.rawData;
    if (!this.toDisk || !bytes || bytes.byteLength < MIN_STORED_BYTES) return;
    this.scratch ??= new ScratchData();
    this.pending.push({ tensor, stored: this.scratch.append(bytes) });
  }

  /**
   * Waits until the kept tensors are on disk and points them there, freeing
   * their memory. Until then they keep their raw_data, so a pass may still read it.
   */
  async settled(): Promise<void> {
    const pending = this.pending;
    this.pending = [];
    const places = await Promise.all(pending.map((entry) => entry.stored));
    pending.forEach(({ tensor }, index) => pointAtExternal(tensor, this.scratch!.location, places[index].offset, places[index].length));
  }

  /** The reader a result needs: `base`, plus the scratch space when tensors went there. */
  reader(base: ExternalDataReader | undefined): ExternalDataReader | undefined {
    return this.scratch ? routeExternalData(base, new Map([[this.scratch.location, this.scratch]])) : base;
  }
}
