import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { ErrorRequestHandler, NextFunction, Request, RequestHandler, Response } from 'express';
import multer from 'multer';
import { AppError, errors, safeFileName, textureErrors } from '../../contract/index.js';
import { isDiskFull } from '../errors.js';
import type { Upload } from '../services/job-record.js';

export interface UploadLimits {
  dir: string;
  /** Makes `dir` again if it was removed under the running server. */
  ensureDir(): Promise<void>;
  maxBytes: number;
  /** The upload is abandoned when no byte arrives for this long. */
  idleTimeoutMs: number;
  /** …or when it has not ended after this long in all, however steadily it trickles. */
  totalTimeoutMs: number;
  /** Free bytes on the uploads' disk, checked as the upload grows. */
  freeBytes(): Promise<number>;
  /** The upload is refused when the disk's free space falls below this. */
  minFreeBytes: number;
}

/** How often (in bytes received) the free disk space is checked during an upload. */
const DISK_CHECK_BYTES = 4 * 1024 * 1024;

/** The temporary files multer is writing for each request (the song, and a texture), whatever state multer is in. */
const tempFiles = new WeakMap<Request, string[]>();

/** Removes the request's temporary files; a job that took one has moved it away, and then nothing is removed. */
async function removeTempFiles(req: Request): Promise<void> {
  await Promise.all((tempFiles.get(req) ?? []).map((temp) => rm(temp, { force: true }).catch(() => undefined)));
}

/** Room for the multipart boundaries and the text fields around the file. */
const MULTIPART_OVERHEAD_BYTES = 64 * 1024;

/** What one kind of form takes: its file fields, and what all of it together is held to. */
interface FormShape {
  fields: multer.Field[];
  /** The whole body, files and fields: refused past this (plus room for the multipart framing). */
  maxTotalBytes: number;
  tooLarge: () => AppError;
  totalTimeoutMs: number;
  /** multer's refusal of a file too many, or in a field the form does not have. */
  unexpected: (field: string) => AppError;
}

/**
 * multer for one file in the field `audio` and, for the style "own", one in `texture` (the user's own
 * recording), written to disk (never held in memory), with every limit set explicitly; the two together are
 * held to the upload limit. multer's own errors become API errors with stable codes. Around it: a body that announces more
 * than the limit is refused before a byte of it is read, an upload that stalls is cut off, and the temporary
 * file is deleted when the response ends unless a job has taken it.
 */
export function audioUpload(limits: UploadLimits): RequestHandler {
  return formUpload(limits, {
    fields: [
      { name: 'audio', maxCount: 1 },
      { name: 'texture', maxCount: 1 },
    ],
    maxTotalBytes: limits.maxBytes,
    tooLarge: () => errors.fileTooLarge(limits.maxBytes),
    totalTimeoutMs: limits.totalTimeoutMs,
    unexpected: () => errors.unexpectedFile(),
  });
}

/** An album's limits: how many files, and how many bytes all of them together. */
export interface BatchUploadLimits {
  minFiles: number;
  maxFiles: number;
  maxTotalBytes: number;
}

/**
 * An album's upload: up to `maxFiles` files in the field `audio`, each held to the single upload's limit and all
 * together to `maxTotalBytes`, with the same refusals, time limits and clean-up as {@link audioUpload}. The total
 * time allowed grows with the album's size limit, at the single upload's pace.
 */
export function batchUpload(limits: UploadLimits, batch: BatchUploadLimits): RequestHandler {
  return formUpload(limits, {
    fields: [{ name: 'audio', maxCount: batch.maxFiles }],
    maxTotalBytes: batch.maxTotalBytes,
    tooLarge: () => errors.batchTooLarge(batch.maxTotalBytes),
    totalTimeoutMs: Math.round(limits.totalTimeoutMs * Math.max(1, batch.maxTotalBytes / limits.maxBytes)),
    unexpected: (field) =>
      field === 'audio' ? errors.batchFileCount(null, batch.minFiles, batch.maxFiles) : errors.badUpload(`a file in the field "${field.slice(0, 40)}"; an album's files all go in "audio"`),
  });
}

function formUpload({ dir, ensureDir, maxBytes, idleTimeoutMs, freeBytes, minFreeBytes }: UploadLimits, shape: FormShape): RequestHandler {
  const { maxTotalBytes, totalTimeoutMs, tooLarge } = shape;
  const fileCount = shape.fields.reduce((sum, field) => sum + (field.maxCount ?? 1), 0);
  const upload = multer({
    storage: multer.diskStorage({
      // A folder given by name is made once, when multer is set up; a cleaner that removes it later would
      // fail every upload until a restart. A folder that cannot be made is the server's trouble, not the upload's.
      destination: (_req, _file, done) =>
        void ensureDir().then(
          () => done(null, dir),
          (error: unknown) => done(isDiskFull(error) ? (error as Error) : errors.storageUnavailable(), dir),
        ),
      // The client's file name never reaches the file system.
      filename: (req, _file, done) => {
        const name = randomBytes(16).toString('hex');
        tempFiles.set(req, [...(tempFiles.get(req) ?? []), path.join(dir, name)]);
        done(null, name);
      },
    }),
    limits: { fileSize: maxBytes, files: fileCount, fields: 20, fieldSize: 4096, parts: fileCount + 28, headerPairs: 100 },
    // Browsers and curl send a file name's UTF-8 bytes as they are; read as latin1 (busboy's default) "Café"
    // would come back as "CafÃ©".
    defParamCharset: 'utf8',
  }).fields(shape.fields);

  return (req: Request, res: Response, next: NextFunction) => {
    if (Number(req.headers['content-length']) > maxTotalBytes + MULTIPART_OVERHEAD_BYTES) {
      closeAfterAnswer(req, res, LINGER_MS);
      return next(tooLarge());
    }

    let answered = false;
    // Answers now and drops the connection, which makes multer abort and delete the partial file. multer on
    // its own would read the rest of the body first, however large, before answering.
    const refuse = (error: AppError, lingerMs: number): void => {
      if (answered) return;
      answered = true;
      stopWatching();
      closeAfterAnswer(req, res, lingerMs);
      next(error);
    };
    const onStall = () => refuse(errors.uploadTimeout('stalled', Math.round(idleTimeoutMs / 1000)), 0);
    req.setTimeout(idleTimeoutMs, onStall);
    const tooSlow = setTimeout(() => refuse(errors.uploadTimeout('slow', Math.round(totalTimeoutMs / 1000)), 0), totalTimeoutMs);
    let received = 0;
    let nextDiskCheck = DISK_CHECK_BYTES;
    // Counting the body itself catches a chunked upload, which announces no length.
    const onData = (chunk: Buffer): void => {
      received += chunk.length;
      if (received > maxTotalBytes + MULTIPART_OVERHEAD_BYTES) return refuse(tooLarge(), LINGER_MS);
      if (received < nextDiskCheck) return;
      nextDiskCheck = received + DISK_CHECK_BYTES;
      void freeBytes().then(
        (free) => {
          if (free < minFreeBytes) refuse(errors.diskFull(), LINGER_MS);
        },
        () => undefined,
      );
    };
    req.on('data', onData);
    const stopWatching = (): void => {
      clearTimeout(tooSlow);
      req.off('data', onData);
    };
    res.once('close', stopWatching);
    // multer leaves a half-written file behind when the client vanishes mid-upload, so the path is tracked
    // from the moment multer picks it. A job that took the file has moved it away; then this removes nothing.
    res.once('close', () => void removeTempFiles(req));

    upload(req, res, (error: unknown) => {
      req.off('timeout', onStall);
      stopWatching();
      // The enrich call then waits for the job in silence; only the upload itself has an idle limit.
      req.socket?.setTimeout(0);
      if (answered) return;
      if (!error) return next();
      next(fromUploadError(error, maxBytes, shape.unexpected));
    });
  };
}

/**
 * For the routers that take uploads: a request refused after its upload arrived (a bad parameter, say) has
 * its temporary file deleted before the answer goes out, not some time after, so a refused upload is gone by
 * the time its client reads why. A job that took the file has moved it away; then this removes nothing.
 */
export const discardUploadOnError: ErrorRequestHandler = async (error: unknown, req, _res, next) => {
  await removeTempFiles(req);
  next(error);
};

/** Long enough for a client still sending to read the answer before the connection is reset. */
const LINGER_MS = 250;

/**
 * Answers and then drops the connection. Left to itself Node keeps the socket open and reads the rest of the
 * body to reuse it, which is what an early answer to an oversized or stalled upload must avoid.
 */
function closeAfterAnswer(req: Request, res: Response, lingerMs: number): void {
  res.set('Connection', 'close');
  const socket = req.socket as (Request['socket'] & { destroySoon?: () => void }) | undefined;
  // Node ends a `Connection: close` answer with destroySoon(), which closes the socket as soon as the answer is
  // written. The client is still sending: its next bytes then reset the connection, and a reset throws away the
  // answer it has not read yet (a 413 became an empty reply). Closing only our side leaves it the linger to read.
  if (socket) socket.destroySoon = () => socket.end();
  res.once('finish', () => setTimeout(() => socket?.destroy(), lingerMs).unref());
}

function fromUploadError(error: unknown, maxBytes: number, unexpected: FormShape['unexpected']): unknown {
  if (error instanceof multer.MulterError) return fromMulter(error, maxBytes, unexpected);
  // Errors with an errno code come from the disk (ENOSPC and friends) and are the server's; anything else
  // multer passes on is busboy failing to parse what the client sent.
  if (isDiskFull(error) || typeof (error as { code?: unknown } | null)?.code === 'string') return error;
  return errors.badUpload();
}

function fromMulter(error: multer.MulterError, maxBytes: number, unexpected: FormShape['unexpected']): AppError {
  switch (error.code) {
    case 'LIMIT_FILE_SIZE':
      return errors.fileTooLarge(maxBytes);
    case 'LIMIT_UNEXPECTED_FILE':
    case 'LIMIT_FILE_COUNT':
      return unexpected(error.field ?? 'audio');
    default:
      return errors.badUpload(error.code);
  }
}

/** The uploaded files by field, as multer's `fields()` leaves them. */
function uploadedAll(req: Request, field: 'audio' | 'texture'): Express.Multer.File[] {
  const files = req.files as Record<string, Express.Multer.File[] | undefined> | undefined;
  return files?.[field] ?? [];
}

function uploaded(req: Request, field: 'audio' | 'texture'): Express.Multer.File | undefined {
  return uploadedAll(req, field)[0];
}

/**
 * An album's songs, in the order they were sent, or a 400: too few of them, or one that is empty (named, so the
 * sender knows which).
 */
export function requireBatchUploads(req: Request, { minFiles, maxFiles }: BatchUploadLimits): Upload[] {
  const files = uploadedAll(req, 'audio');
  if (files.length < minFiles) throw errors.batchFileCount(files.length, minFiles, maxFiles);
  const empty = files.find((file) => file.size === 0);
  if (empty) throw namedFileError(empty.originalname, errors.emptyFile());
  return files.map((file) => ({ path: file.path, originalName: file.originalname }));
}

/** A refusal of one file among several, with that file's name in front of what is wrong with it. */
function namedFileError(name: string, error: AppError): AppError {
  return new AppError(error.code, `"${safeFileName(name, 100) || 'a file without a name'}": ${error.message}`, error.headers, error.status);
}

/** The uploaded song, or a 400 that says how to send one. */
export function requireUpload(req: Request): Upload {
  const file = uploaded(req, 'audio');
  if (!file) throw errors.missingAudio();
  if (file.size === 0) throw errors.emptyFile();
  return { path: file.path, originalName: file.originalname };
}

/** The user's own recording for the style "own", when one was sent; an empty one is refused by name. */
export function optionalTexture(req: Request): Upload | undefined {
  const file = uploaded(req, 'texture');
  if (!file) return undefined;
  if (file.size === 0) throw textureErrors.empty();
  return { path: file.path, originalName: file.originalname };
}
