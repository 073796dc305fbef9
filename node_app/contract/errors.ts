/**
 * Every error the API answers with: its stable code and its status. docs/api.md's error table is checked
 * against this list (node_app/contract/contract.test.ts); the messages may be reworded, the codes may not.
 */
const STATUS = {
  MISSING_AUDIO: 400,
  MISSING_TEXTURE: 400,
  EMPTY_FILE: 400,
  UNEXPECTED_FILE: 400,
  BAD_UPLOAD: 400,
  INVALID_PARAMETER: 400,
  UNKNOWN_STYLE: 400,
  BAD_STYLE_MIX: 400,
  BAD_REQUEST: 400,
  BATCH_FILE_COUNT: 400,
  JOB_NOT_FOUND: 404,
  BATCH_NOT_FOUND: 404,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  UPLOAD_TIMEOUT: 408,
  JOB_NOT_DONE: 409,
  JOB_FAILED: 409,
  BATCH_NOT_DONE: 409,
  FILE_TOO_LARGE: 413,
  TOO_LONG: 413,
  BATCH_TOO_LARGE: 413,
  NOT_AUDIO: 415,
  UNSUPPORTED_FORMAT: 415,
  NO_AUDIO: 415,
  UNDECODABLE: 415,
  DECODE_TIMEOUT: 415,
  RATE_LIMITED: 429,
  CANCELLED: 499,
  ENRICH_FAILED: 500,
  ENCODE_FAILED: 500,
  INTERNAL: 500,
  BUSY: 503,
  MODELS_LOADING: 503,
  MODELS_UNAVAILABLE: 503,
  SHUTTING_DOWN: 503,
  DECODER_FAILED: 503,
  FFMPEG_UNAVAILABLE: 503,
  ENCODE_TIMEOUT: 503,
  STORAGE_UNAVAILABLE: 503,
  DISK_FULL: 507,
} as const;

export type ErrorCode = keyof typeof STATUS;
export const ERROR_STATUS: Readonly<Record<ErrorCode, number>> = STATUS;
export const ERROR_CODES = Object.keys(STATUS) as ErrorCode[];
/** The codes as values, for the places that compare or pick one: `ErrorCode.TOO_LONG`. */
export const ErrorCode = Object.fromEntries(ERROR_CODES.map((code) => [code, code])) as { readonly [C in ErrorCode]: C };

/** An error meant for the client: a stable code, a message that says what to do, and the HTTP status. */
export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly headers: Record<string, string> = {},
    readonly status: number = ERROR_STATUS[code],
  ) {
    super(message);
    this.name = 'AppError';
  }
}

const retryAfter = (seconds: number) => ({ 'Retry-After': String(seconds) });
/** What to upload instead, in the words of the two 415s that are about the kind of file. */
const ACCEPTED_AUDIO = 'mp3, wav, flac, ogg, m4a, webm, wma, ac3, amr, mka or 3gp';
const megabytes = (bytes: number) => Math.round(bytes / 1024 / 1024);

/** One factory per code: the one place each error's words are written. */
export const errors = {
  missingAudio: () => new AppError('MISSING_AUDIO', 'Attach the audio file in the multipart form field "audio".'),
  emptyFile: () => new AppError('EMPTY_FILE', 'The uploaded file is empty. Attach a recording with sound in it.'),
  unexpectedFile: () => new AppError('UNEXPECTED_FILE', 'Send exactly one file, in the form field named "audio".'),
  badUpload: (detail?: string) =>
    new AppError(
      'BAD_UPLOAD',
      detail
        ? `The upload could not be read (${detail}). Send multipart/form-data with the file in "audio".`
        : 'The upload could not be read: the multipart body is malformed or cut short. Send multipart/form-data with the file in "audio".',
    ),
  /** `field: what is wrong with it`, e.g. "amount: must be between 0 and 1". */
  invalidParameter: (field: string, problem: string) => new AppError('INVALID_PARAMETER', `${field}: ${problem}`),
  /** `known`: every style id there is; `nearest`: the one `id` most likely meant, if any. */
  unknownStyle: (id: string, known: readonly string[], nearest?: string) =>
    new AppError('UNKNOWN_STYLE', `Unknown style "${id}".${nearest ? ` Did you mean "${nearest}"?` : ''} The styles are: ${known.join(', ')}.`),
  badStyleMix: (problem: string) => new AppError('BAD_STYLE_MIX', problem),
  /** body-parser and friends mark a client's mistake with a 4xx status, which is kept (413 for a body too large). */
  badRequest: (status = 400) => new AppError('BAD_REQUEST', 'The request could not be read. Check its body and headers.', {}, status),
  jobNotFound: () =>
    new AppError('JOB_NOT_FOUND', 'No job with this id: it has expired (results are kept for a limited time), was deleted or never existed. Enrich the file again.'),
  notFound: (method: string, path: string) =>
    new AppError('NOT_FOUND', `There is no ${method} ${path.slice(0, 200)}. The API is described in docs/api.md.`),
  /** `allowed`: the methods the path does take, sent back in `Allow`. */
  methodNotAllowed: (method: string, path: string, allowed: readonly string[]) =>
    new AppError('METHOD_NOT_ALLOWED', `${path.slice(0, 200)} does not take ${method}; use ${allowed.join(' or ')}.`, { Allow: allowed.join(', ') }),
  /** `stalled`: nothing arrived for `seconds`; `slow`: the whole upload took longer than `seconds`. */
  uploadTimeout: (why: 'stalled' | 'slow', seconds: number) =>
    new AppError(
      'UPLOAD_TIMEOUT',
      why === 'stalled'
        ? `The upload stalled: nothing arrived for ${seconds} s. Check the connection and send the file again.`
        : `The upload took longer than ${seconds} s. Send a smaller (compressed) file or use a faster connection.`,
    ),
  jobNotDone: (status: string) => new AppError('JOB_NOT_DONE', `The job is ${status}; wait until it is done to download the result.`),
  jobFailed: () => new AppError('JOB_FAILED', 'The job failed and its files were deleted; enrich the file again.'),
  fileTooLarge: (maxBytes: number) =>
    new AppError('FILE_TOO_LARGE', `The file is larger than ${megabytes(maxBytes)} MB. Upload a shorter or compressed file.`),
  tooLong: (maxSeconds: number) =>
    new AppError('TOO_LONG', `The audio is longer than ${Math.round(maxSeconds)} seconds. Cut a section with start/end or upload a shorter file.`),
  notAudio: () => new AppError('NOT_AUDIO', `This file is not audio that can be decoded. Try ${ACCEPTED_AUDIO}.`),
  /** `found`: what the file was recognised as, e.g. "an HLS playlist". */
  unsupportedFormat: (found: string) =>
    new AppError(
      'UNSUPPORTED_FORMAT',
      `This file is ${found}, which is not accepted: playlists, stream descriptions and image sequences are never opened. Upload the audio file itself: ${ACCEPTED_AUDIO}.`,
    ),
  missingTexture: () =>
    new AppError('MISSING_TEXTURE', 'The style "own" weaves in your own recording: send it as the file field "texture" (3 s to 2 minutes).'),
  noAudio: () => new AppError('NO_AUDIO', 'The file decodes to no audio samples. Upload a recording with sound in it.'),
  undecodable: () => new AppError('UNDECODABLE', 'The audio in this file could not be decoded; it may be damaged or truncated.'),
  decodeTimeout: () => new AppError('DECODE_TIMEOUT', 'Decoding this file took too long. Try a shorter or simpler file.'),
  /** `count`: the files sent, or null when there were more than `max` (the upload stops at the first one too many). */
  batchFileCount: (count: number | null, min: number, max: number) =>
    new AppError(
      'BATCH_FILE_COUNT',
      `An album takes ${min} to ${max} files, each in a form field named "audio"; this one had ${count ?? `more than ${max}`}.${count !== null && count < min ? ' Send one file to POST /api/jobs instead.' : ''}`,
    ),
  batchTooLarge: (maxBytes: number) =>
    new AppError('BATCH_TOO_LARGE', `The album's files together are larger than ${megabytes(maxBytes)} MB. Send fewer or smaller (compressed) files.`),
  batchNotFound: () =>
    new AppError('BATCH_NOT_FOUND', 'No album with this id: it has expired (results are kept for a limited time), was deleted or never existed.'),
  /** `running`: songs not finished yet; 0 when they all are and the album is being measured for its one loudness gain. */
  batchNotDone: (running: number) =>
    running === 0
      ? new AppError('BATCH_NOT_DONE', 'Every song is done and the album is being measured for its one loudness gain. Try again in a few seconds.', retryAfter(5))
      : new AppError('BATCH_NOT_DONE', `${running} of the album's songs ${running === 1 ? 'is' : 'are'} not finished yet; download the album once every song is done.`),
  rateLimited: (retryAfterSeconds: number) =>
    new AppError('RATE_LIMITED', `Too many songs from your address in a short time. Try again in ${retryAfterSeconds} s.`, retryAfter(retryAfterSeconds)),
  cancelled: () => new AppError('CANCELLED', 'The job was cancelled.'),
  enrichFailed: () => new AppError('ENRICH_FAILED', 'Something went wrong while enriching this file. Try again, or try another file.'),
  encodeFailed: () => new AppError('ENCODE_FAILED', 'The result could not be encoded in this format. Try again, or download it as wav.'),
  internal: () => new AppError('INTERNAL', 'Something went wrong on our side. Try again in a moment.'),
  busy: (message: string, retryAfterSeconds: number) => new AppError('BUSY', message, retryAfter(retryAfterSeconds)),
  modelsLoading: () => new AppError('MODELS_LOADING', 'The server is still loading its models. Try again in a few seconds.', retryAfter(5)),
  modelsUnavailable: () =>
    new AppError('MODELS_UNAVAILABLE', 'The style models could not be loaded on this server. Try again later.', retryAfter(5)),
  shuttingDown: () =>
    new AppError('SHUTTING_DOWN', 'The server is restarting and takes no new songs. Try again in a few seconds.', retryAfter(5)),
  // A dead decoder says nothing about the file; blaming the upload would send the user looking in the wrong place.
  decoderFailed: () =>
    new AppError('DECODER_FAILED', 'The audio decoder stopped unexpectedly on this server. Try again in a moment.', retryAfter(10)),
  ffmpegUnavailable: () =>
    new AppError('FFMPEG_UNAVAILABLE', 'The server cannot run its audio decoder right now. Try again in a minute.', retryAfter(5)),
  encodeTimeout: () =>
    new AppError('ENCODE_TIMEOUT', 'Encoding the result took too long on a busy server. Try again in a minute.', retryAfter(30)),
  /** Distributed mode: Redis or the object storage does not answer. */
  storageUnavailable: () =>
    new AppError('STORAGE_UNAVAILABLE', 'The server cannot reach its queue or storage right now. Try again in a minute.', retryAfter(5)),
  // 507 rather than 500: the request was fine, the server's disk is not, and a retry later may work.
  diskFull: () =>
    new AppError('DISK_FULL', 'The server has no room left to store this file. Try again later or with a smaller file.', retryAfter(60)),
} satisfies Record<string, (...args: never[]) => AppError>;
