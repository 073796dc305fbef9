import { AppError, errors, thousandths } from '../../contract/index.js';
import { MediaError } from '../adapters/media/media-error.js';
import { isDiskFull } from '../errors.js';

/** The API's answer to a media problem: what the client can do about it, with a stable code. */
export function fromMediaError(error: MediaError): AppError {
  switch (error.problem) {
    case 'not-audio':
      return errors.notAudio();
    case 'unsupported-container':
      return errors.unsupportedFormat(error.details.container ?? 'a container outside the accepted ones');
    case 'no-audio':
      return errors.noAudio();
    case 'start-past-end':
      return startPastEnd(error.details.limitSeconds);
    case 'undecodable':
      return errors.undecodable();
    case 'decode-timeout':
      return errors.decodeTimeout();
    case 'too-long':
      return errors.tooLong(error.details.limitSeconds ?? 0);
    case 'decoder-killed':
      return errors.decoderFailed();
    case 'ffmpeg-unavailable':
      return errors.ffmpegUnavailable();
    case 'encode-timeout':
      return errors.encodeTimeout();
    case 'disk-full':
      return errors.diskFull();
    case 'encode-failed':
      return errors.encodeFailed();
  }
}

/** A section that starts where the audio, `durationSeconds` long when known, has already ended. */
export function startPastEnd(durationSeconds: number | undefined): AppError {
  return errors.invalidParameter(
    'start',
    durationSeconds === undefined
      ? 'is past the end of the audio. Pick a start inside the recording.'
      : `is past the end of the audio, which is ${thousandths(durationSeconds)} s long.`,
  );
}

/** Errors with an answer for the client; null for the unexpected ones, which are worth a log line. */
export function toKnownError(error: unknown): AppError | null {
  if (error instanceof AppError) return error;
  if (error instanceof MediaError) return fromMediaError(error);
  return isDiskFull(error) ? errors.diskFull() : null;
}
