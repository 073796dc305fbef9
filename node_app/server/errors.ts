/** An error meant for the client: a stable code, a message that says what to do, and the HTTP status. */
export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'AppError';
  }
}

export const badRequest = (code: string, message: string) => new AppError(400, code, message);
export const notFound = (code: string, message: string) => new AppError(404, code, message);
export const conflict = (code: string, message: string) => new AppError(409, code, message);
export const tooLarge = (code: string, message: string) => new AppError(413, code, message);
export const unsupportedMedia = (code: string, message: string) => new AppError(415, code, message);
export const tooManyRequests = (retryAfterSeconds: number) =>
  new AppError(429, 'RATE_LIMITED', `Too many songs from your address in a short time. Try again in ${retryAfterSeconds} s.`, {
    'Retry-After': String(retryAfterSeconds),
  });
export const uploadTimeout = (idleSeconds: number) =>
  new AppError(408, 'UPLOAD_TIMEOUT', `The upload stalled: nothing arrived for ${idleSeconds} s. Check the connection and send the file again.`);
export const uploadTooSlow = (totalSeconds: number) =>
  new AppError(408, 'UPLOAD_TIMEOUT', `The upload took longer than ${totalSeconds} s. Send a smaller (compressed) file or use a faster connection.`);
// 507 rather than 500: the request was fine, the server's disk is not, and a retry later may work.
export const diskFull = () =>
  new AppError(507, 'DISK_FULL', 'The server has no room left to store this file. Try again later or with a smaller file.', { 'Retry-After': '60' });
export const decoderFailed = () =>
  new AppError(503, 'DECODER_FAILED', 'The audio decoder stopped unexpectedly on this server. Try again in a moment.', { 'Retry-After': '10' });
export const busy = (message: string, retryAfterSeconds: number) =>
  new AppError(503, 'BUSY', message, { 'Retry-After': String(retryAfterSeconds) });
export const unavailable = (code: string, message: string) =>
  new AppError(503, code, message, { 'Retry-After': '5' });

export const jobNotFound = () =>
  notFound('JOB_NOT_FOUND', 'No job with this id. Results expire after a while and are lost when the server restarts; enrich the file again.');

export const shuttingDown = () =>
  unavailable('SHUTTING_DOWN', 'The server is restarting and takes no new songs. Try again in a few seconds.');

export function isAbortError(error: unknown): boolean {
  return error instanceof Error && error.name === 'AbortError';
}

/** ENOSPC and EDQUOT both mean "no room to write", whichever layer (multer, fs, ffmpeg's caller) met it. */
export function isDiskFull(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}
