import { ErrorCode } from '../../../contract';
import type { ClientErrorCode } from '../api';

/** A short headline for each error the API can answer; the API's own message says what to do. */
const TITLES: Partial<Record<ErrorCode | ClientErrorCode, string>> = {
  [ErrorCode.FILE_TOO_LARGE]: 'This file is too large',
  [ErrorCode.TOO_LONG]: 'This recording is too long',
  [ErrorCode.NOT_AUDIO]: 'This is not an audio file we can read',
  [ErrorCode.NO_AUDIO]: 'This file has no sound in it',
  [ErrorCode.EMPTY_FILE]: 'This file is empty',
  [ErrorCode.BATCH_FILE_COUNT]: 'An album takes 2 to 20 files',
  [ErrorCode.BATCH_TOO_LARGE]: 'This album is too large',
  [ErrorCode.BATCH_NOT_FOUND]: 'This album is no longer here',
  [ErrorCode.UPLOAD_TIMEOUT]: 'The upload stalled',
  [ErrorCode.UNDECODABLE]: 'This audio could not be decoded',
  [ErrorCode.DECODE_TIMEOUT]: 'This file took too long to read',
  [ErrorCode.BUSY]: 'The server is busy',
  [ErrorCode.DISK_FULL]: 'The server is out of space',
  [ErrorCode.SHUTTING_DOWN]: 'The server is restarting',
  [ErrorCode.MODELS_LOADING]: 'The server is still starting',
  [ErrorCode.MODELS_UNAVAILABLE]: 'The style models are unavailable',
  [ErrorCode.JOB_NOT_FOUND]: 'This result is no longer here',
  [ErrorCode.CANCELLED]: 'Cancelled',
  [ErrorCode.RATE_LIMITED]: 'Too many requests',
  NETWORK: 'No connection to the server',
};

export function errorTitle(code: string): string {
  return TITLES[code as ErrorCode | ClientErrorCode] ?? 'Something went wrong';
}
