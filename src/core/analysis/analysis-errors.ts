import { OnnxLensError } from '../errors';

/** The caller's AbortSignal fired before the analysis finished. */
export class AnalysisCancelledError extends OnnxLensError {
  readonly code = 'analysis-cancelled';
}

/** A worker thread stopped or could not start; the weight it held is named when there was one. */
export class AnalysisWorkerError extends OnnxLensError {
  readonly code = 'analysis-worker';

  constructor(message: string, readonly weightId?: string) {
    super(message);
  }
}
