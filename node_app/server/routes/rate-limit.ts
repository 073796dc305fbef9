import type { RequestHandler } from 'express';
import { rateLimit, type Store } from 'express-rate-limit';
import { errors } from '../../contract/index.js';

const WINDOW_MS = 60_000;

/**
 * Limits how often one client IP may start work. The IP is Express's `req.ip`, which reads X-Forwarded-For
 * only through the proxies `TRUST_PROXY` names (Heroku's router on a dyno): clients behind the router are told
 * apart, and a client cannot dodge the limit by sending its own header, through the router or without one.
 */
export function workRateLimit(perMinute: number, store?: Store): RequestHandler {
  return rateLimit({
    store,
    windowMs: WINDOW_MS,
    limit: perMinute,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    // Without a trusted proxy X-Forwarded-For is ignored on purpose; any client could set off this warning's stack trace.
    validate: { xForwardedForHeader: false },
    handler: (req, _res, next) => {
      const resetTime = (req as { rateLimit?: { resetTime?: Date } }).rateLimit?.resetTime;
      const seconds = resetTime ? Math.max(1, Math.ceil((resetTime.getTime() - Date.now()) / 1000)) : WINDOW_MS / 1000;
      next(errors.rateLimited(seconds));
    },
  });
}
