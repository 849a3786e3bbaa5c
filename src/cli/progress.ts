/** One line of progress on a terminal, rewritten in place; nothing at all when the output is not a terminal. */
import { MeasureProgress } from '../core';

const MIN_INTERVAL_MS = 100;

const STAGE_TEXT: Readonly<Record<MeasureProgress['stage'], string>> = {
  size: 'measuring sizes',
  load: 'loading models',
  outputs: 'running input sets',
  'warm-up': 'warming up',
  latency: 'timing rounds',
};

export interface ProgressLine {
  readonly report: (progress: MeasureProgress) => void;
  readonly clear: () => void;
}

export function progressLine(stream: NodeJS.WriteStream): ProgressLine {
  if (!stream.isTTY) return { report: () => undefined, clear: () => undefined };
  let shownAt = 0;
  let shown = false;
  return {
    report: (progress) => {
      const now = Date.now();
      if (now - shownAt < MIN_INTERVAL_MS) return;
      shownAt = now;
      shown = true;
      stream.write(`\r\x1b[K${STAGE_TEXT[progress.stage]} ${progress.done}/${progress.total}…`);
    },
    clear: () => {
      if (shown) stream.write('\r\x1b[K');
    },
  };
}
