import type { RequestHandler } from 'express';
import { rateLimit, type Store } from 'express-rate-limit';
import { errors } from '../../contract/index.js';

const WINDOW_MS = 60_000;

/**
 * Answers that refuse a request before any audio is decoded: a bad field or no file (400), an upload too slow
 * or too large (408, 413), the limit itself (429), a full queue or disk (503, 507). They cost the server next
 * to nothing, and a person correcting a typo should not be locked out by their own mistakes.
 */
const REFUSED_BEFORE_WORK = new Set([400, 408, 413, 429, 503, 507]);

/**
 * Limits how often one client IP may start work; only work that was taken on counts (see REFUSED_BEFORE_WORK),
 * and a one-shot call whose client hung up, which cancels its job, is given back too. The IP is Express's `req.ip`, which reads X-Forwarded-For
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
    skipFailedRequests: true,
    requestWasSuccessful: (_req, res) => !REFUSED_BEFORE_WORK.has(res.statusCode),
    // Without a trusted proxy X-Forwarded-For is ignored on purpose; any client could set off this warning's stack trace.
    validate: { xForwardedForHeader: false },
    handler: (req, _res, next) => {
      const resetTime = (req as { rateLimit?: { resetTime?: Date } }).rateLimit?.resetTime;
      const seconds = resetTime ? Math.max(1, Math.ceil((resetTime.getTime() - Date.now()) / 1000)) : WINDOW_MS / 1000;
      next(errors.rateLimited(seconds));
    },
  });
}
