import type { RequestHandler } from 'express';
import { rateLimit, type Store } from 'express-rate-limit';
import { errors } from '../../contract/index.js';

const WINDOW_MS = 60_000;

/**
 * Limits how often one client IP may start work. The IP is Express's `req.ip`, which honours one proxy hop
 * (`trust proxy` is 1 for Heroku's router), so clients behind the router are told apart by X-Forwarded-For
 * and one client cannot dodge the limit by sending its own header through it.
 */
export function workRateLimit(perMinute: number, store?: Store): RequestHandler {
  return rateLimit({
    store,
    windowMs: WINDOW_MS,
    limit: perMinute,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    handler: (req, _res, next) => {
      const resetTime = (req as { rateLimit?: { resetTime?: Date } }).rateLimit?.resetTime;
      const seconds = resetTime ? Math.max(1, Math.ceil((resetTime.getTime() - Date.now()) / 1000)) : WINDOW_MS / 1000;
      next(errors.rateLimited(seconds));
    },
  });
}
