import { MediaError } from '../adapters/media-error.js';
import { AppError, badRequest, decoderFailed, diskFull, isDiskFull, tooLarge, unavailable, unsupportedMedia } from '../errors.js';

/** The API's answer to a media problem: what the client can do about it, with a stable code. */
export function fromMediaError(error: MediaError): AppError {
  switch (error.problem) {
    case 'not-audio':
      return unsupportedMedia('NOT_AUDIO', 'This file is not audio that can be decoded. Try mp3, wav, flac, ogg, m4a or webm.');
    case 'unsupported-container':
      return unsupportedMedia(
        'UNSUPPORTED_FORMAT',
        'Playlists, stream descriptions and image sequences are not accepted. Upload the audio file itself: mp3, wav, flac, ogg, m4a or webm.',
      );
    case 'no-audio':
      return unsupportedMedia('NO_AUDIO', 'The file decodes to no audio samples. Upload a recording with sound in it.');
    case 'start-past-end':
      return badRequest(
        'INVALID_PARAMETER',
        error.limitSeconds === undefined
          ? 'start: is past the end of the audio. Pick a start inside the recording.'
          : `start: is past the end of the audio, which is ${Math.round(error.limitSeconds * 1000) / 1000} s long.`,
      );
    case 'undecodable':
      return unsupportedMedia('UNDECODABLE', 'The audio in this file could not be decoded; it may be damaged or truncated.');
    case 'decode-timeout':
      return unsupportedMedia('DECODE_TIMEOUT', 'Decoding this file took too long. Try a shorter or simpler file.');
    case 'too-long':
      return tooLarge(
        'TOO_LONG',
        `The audio is longer than ${Math.round(error.limitSeconds ?? 0)} seconds. Cut a section with start/end or upload a shorter file.`,
      );
    // A dead decoder says nothing about the file; blaming the upload would send the user looking in the wrong place.
    case 'decoder-killed':
      return decoderFailed();
    case 'ffmpeg-unavailable':
      return unavailable('FFMPEG_UNAVAILABLE', 'The server cannot run its audio decoder right now. Try again in a minute.');
    case 'encode-timeout':
      return new AppError(503, 'ENCODE_TIMEOUT', 'Encoding the result took too long on a busy server. Try again in a minute.', { 'Retry-After': '30' });
    case 'disk-full':
      return diskFull();
    case 'encode-failed':
      return new AppError(500, 'ENCODE_FAILED', 'The result could not be encoded in this format. Try again, or download it as wav.');
  }
}

/** Errors with an answer for the client; null for the unexpected ones, which are worth a log line. */
export function toKnownError(error: unknown): AppError | null {
  if (error instanceof AppError) return error;
  if (error instanceof MediaError) return fromMediaError(error);
  return isDiskFull(error) ? diskFull() : null;
}
