import { randomBytes } from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import multer from 'multer';
import { z } from 'zod';
import { AppError, badRequest, tooLarge } from '../errors.js';
import type { EnrichParams, Upload } from '../services/job-service.js';

export interface UploadLimits {
  dir: string;
  maxBytes: number;
}

/**
 * multer for one file in the field `audio`, written to disk (never held in memory), with every limit set
 * explicitly. multer's own errors become API errors with stable codes.
 */
export function audioUpload({ dir, maxBytes }: UploadLimits): RequestHandler {
  const upload = multer({
    storage: multer.diskStorage({
      destination: dir,
      // The client's file name never reaches the file system.
      filename: (_req, _file, done) => done(null, randomBytes(16).toString('hex')),
    }),
    limits: { fileSize: maxBytes, files: 1, fields: 20, fieldSize: 4096, parts: 30, headerPairs: 100 },
  }).single('audio');

  return (req: Request, res: Response, next: NextFunction) => {
    upload(req, res, (error: unknown) => {
      if (!error) return next();
      next(error instanceof multer.MulterError ? fromMulter(error, maxBytes) : error);
    });
  };
}

function fromMulter(error: multer.MulterError, maxBytes: number): AppError {
  switch (error.code) {
    case 'LIMIT_FILE_SIZE':
      return tooLarge('FILE_TOO_LARGE', `The file is larger than ${Math.round(maxBytes / 1024 / 1024)} MB. Upload a shorter or compressed file.`);
    case 'LIMIT_UNEXPECTED_FILE':
    case 'LIMIT_FILE_COUNT':
      return badRequest('UNEXPECTED_FILE', 'Send exactly one file, in the form field named "audio".');
    default:
      return badRequest('BAD_UPLOAD', `The upload could not be read (${error.code}). Send multipart/form-data with the file in "audio".`);
  }
}

const blankToUndefined = (value: unknown) => (typeof value === 'string' && value.trim() === '' ? undefined : value);
const optionalNumber = <T extends z.ZodType>(schema: T) => z.preprocess(blankToUndefined, schema.optional());

export const enrichParamsSchema = z
  .object({
    style: z.preprocess(blankToUndefined, z.string().max(300).optional()),
    amount: z.preprocess(blankToUndefined, z.coerce.number().min(0, 'must be between 0 and 1').max(1, 'must be between 0 and 1').default(0.5)),
    seed: z.preprocess(
      blankToUndefined,
      z.string().regex(/^\d{1,10}$/, 'must be a whole number from 0 to 4294967295').transform(Number)
        .refine((n) => n <= 0xffffffff, 'must be a whole number from 0 to 4294967295').optional(),
    ),
    format: z.preprocess(blankToUndefined, z.enum(['wav', 'mp3', 'flac', 'ogg']).default('wav')),
    start: optionalNumber(z.coerce.number().min(0, 'must be 0 or more seconds')),
    end: optionalNumber(z.coerce.number().positive('must be more than 0 seconds')),
  })
  .refine((p) => p.start === undefined || p.end === undefined || p.start < p.end, {
    message: 'start must be before end',
    path: ['start'],
  });

/** Validates a request's fields into enrich parameters; the first problem becomes a 400. */
export function parseEnrichParams(body: unknown): EnrichParams {
  const parsed = enrichParamsSchema.safeParse(body ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue.path.join('.') || 'request';
    throw badRequest('INVALID_PARAMETER', `${field}: ${issue.message}`);
  }
  return parsed.data;
}

/** The uploaded file, or a 400 that says how to send one. */
export function requireUpload(req: Request): Upload {
  if (!req.file) throw badRequest('MISSING_AUDIO', 'Attach the audio file in the multipart form field "audio".');
  return { path: req.file.path, originalName: req.file.originalname };
}
