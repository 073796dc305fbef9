/** A short headline for each error the API can answer; the API's own message says what to do. */
const TITLES: Record<string, string> = {
  FILE_TOO_LARGE: 'This file is too large',
  TOO_LONG: 'This recording is too long',
  NOT_AUDIO: 'This is not an audio file we can read',
  NO_AUDIO: 'This file has no sound in it',
  EMPTY_FILE: 'This file is empty',
  UPLOAD_TIMEOUT: 'The upload stalled',
  UNDECODABLE: 'This audio could not be decoded',
  DECODE_TIMEOUT: 'This file took too long to read',
  BUSY: 'The server is busy',
  DISK_FULL: 'The server is out of space',
  SHUTTING_DOWN: 'The server is restarting',
  MODELS_LOADING: 'The server is still starting',
  MODELS_UNAVAILABLE: 'The style models are unavailable',
  JOB_NOT_FOUND: 'This result is no longer here',
  CANCELLED: 'Cancelled',
  NETWORK: 'No connection to the server',
  RATE_LIMITED: 'Too many requests',
};

export function errorTitle(code: string): string {
  return TITLES[code] ?? 'Something went wrong';
}
