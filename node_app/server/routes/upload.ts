import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { ErrorRequestHandler, NextFunction, Request, RequestHandler, Response } from 'express';
import multer from 'multer';
import { errors, type AppError } from '../../contract/index.js';
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

/** The temporary file multer is writing for each request, whatever state multer is in. */
const tempFiles = new WeakMap<Request, string>();

/** Room for the multipart boundaries and the text fields around the file. */
const MULTIPART_OVERHEAD_BYTES = 64 * 1024;

/**
 * multer for one file in the field `audio`, written to disk (never held in memory), with every limit set
 * explicitly. multer's own errors become API errors with stable codes. Around it: a body that announces more
 * than the limit is refused before a byte of it is read, an upload that stalls is cut off, and the temporary
 * file is deleted when the response ends unless a job has taken it.
 */
export function audioUpload({ dir, ensureDir, maxBytes, idleTimeoutMs, totalTimeoutMs, freeBytes, minFreeBytes }: UploadLimits): RequestHandler {
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
        tempFiles.set(req, path.join(dir, name));
        done(null, name);
      },
    }),
    limits: { fileSize: maxBytes, files: 1, fields: 20, fieldSize: 4096, parts: 30, headerPairs: 100 },
    // Browsers and curl send a file name's UTF-8 bytes as they are; read as latin1 (busboy's default) "Café"
    // would come back as "CafÃ©".
    defParamCharset: 'utf8',
  }).single('audio');

  return (req: Request, res: Response, next: NextFunction) => {
    if (Number(req.headers['content-length']) > maxBytes + MULTIPART_OVERHEAD_BYTES) {
      closeAfterAnswer(req, res, LINGER_MS);
      return next(errors.fileTooLarge(maxBytes));
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
      if (received > maxBytes + MULTIPART_OVERHEAD_BYTES) return refuse(errors.fileTooLarge(maxBytes), LINGER_MS);
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
    res.once('close', () => {
      const temp = tempFiles.get(req);
      if (temp) void rm(temp, { force: true });
    });

    upload(req, res, (error: unknown) => {
      req.off('timeout', onStall);
      stopWatching();
      // The enrich call then waits for the job in silence; only the upload itself has an idle limit.
      req.socket?.setTimeout(0);
      if (answered) return;
      if (!error) return next();
      next(fromUploadError(error, maxBytes));
    });
  };
}

/**
 * For the routers that take uploads: a request refused after its upload arrived (a bad parameter, say) has
 * its temporary file deleted before the answer goes out, not some time after, so a refused upload is gone by
 * the time its client reads why. A job that took the file has moved it away; then this removes nothing.
 */
export const discardUploadOnError: ErrorRequestHandler = async (error: unknown, req, _res, next) => {
  const temp = tempFiles.get(req);
  if (temp) await rm(temp, { force: true }).catch(() => undefined);
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

function fromUploadError(error: unknown, maxBytes: number): unknown {
  if (error instanceof multer.MulterError) return fromMulter(error, maxBytes);
  // Errors with an errno code come from the disk (ENOSPC and friends) and are the server's; anything else
  // multer passes on is busboy failing to parse what the client sent.
  if (isDiskFull(error) || typeof (error as { code?: unknown } | null)?.code === 'string') return error;
  return errors.badUpload();
}

function fromMulter(error: multer.MulterError, maxBytes: number): AppError {
  switch (error.code) {
    case 'LIMIT_FILE_SIZE':
      return errors.fileTooLarge(maxBytes);
    case 'LIMIT_UNEXPECTED_FILE':
    case 'LIMIT_FILE_COUNT':
      return errors.unexpectedFile();
    default:
      return errors.badUpload(error.code);
  }
}

/** The uploaded file, or a 400 that says how to send one. */
export function requireUpload(req: Request): Upload {
  if (!req.file) throw errors.missingAudio();
  if (req.file.size === 0) throw errors.emptyFile();
  return { path: req.file.path, originalName: req.file.originalname };
}
