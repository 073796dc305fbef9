import type { ErrorRequestHandler } from 'express';
import { AppError, errors } from '../contract/index.js';
import { toKnownError } from './services/media-failures.js';

const CONTENT_HEADERS = [
  'Content-Type',
  'Content-Disposition',
  'Content-Length',
  'Cache-Control',
  'ETag',
  'Last-Modified',
  'Accept-Ranges',
  'X-Enrich-Style',
  'X-Enrich-Seed',
  'Access-Control-Expose-Headers',
];

/** The one place errors become responses: JSON with a stable code, never a stack trace. */
export const errorHandler: ErrorRequestHandler = (error: unknown, req, res, _next) => {
  const known = toAppError(error);
  if (known.status >= 500 && !(error instanceof AppError)) req.log?.error({ err: error }, 'unhandled error');
  if (res.headersSent) {
    res.destroy();
    return;
  }
  // A route that failed after describing its audio (type, attachment name, caching) must not send the JSON
  // error under that description.
  for (const header of CONTENT_HEADERS) res.removeHeader(header);
  res.status(known.status).set(known.headers).json({ error: { code: known.code, message: known.message } });
};

function toAppError(error: unknown): AppError {
  const known = toKnownError(error);
  if (known) return known;
  const status = (error as { status?: number; statusCode?: number })?.status ?? (error as { statusCode?: number })?.statusCode;
  // body-parser and friends mark client mistakes with a 4xx status.
  if (typeof status === 'number' && status >= 400 && status < 500) return errors.badRequest(status);
  return errors.internal();
}
