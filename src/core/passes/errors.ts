import { OnnxLensError } from '../errors';

/** A pass was asked to change a layer it cannot change; the message says why, in one sentence. */
export class PassNotApplicableError extends OnnxLensError {
  readonly code = 'pass-not-applicable';

  constructor(message: string, readonly layer: string) {
    super(message);
  }
}

/** The caller's AbortSignal fired while a pass was running; the input model is unchanged. */
export class PassCancelledError extends OnnxLensError {
  readonly code = 'pass-cancelled';
}
