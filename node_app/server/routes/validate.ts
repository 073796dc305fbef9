import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { z } from 'zod/mini';
import { invalidParameterOf } from '../../contract/index.js';

/** A validating middleware, and the way its handler reads what it validated. */
export interface Validator<T> extends RequestHandler<Record<string, string>> {
  of(req: Request): T;
}

/**
 * Validates one part of the request (the form or JSON body, or the query) against a contract schema before
 * the handler runs; the first problem becomes the 400 INVALID_PARAMETER that names the field.
 */
export function validate<S extends z.ZodMiniType>(part: 'body' | 'query', schema: S): Validator<z.output<S>> {
  const values = new WeakMap<Request, z.output<S>>();
  const middleware = (req: Request, _res: Response, next: NextFunction): void => {
    const parsed = schema.safeParse(req[part] ?? {});
    if (!parsed.success) return next(invalidParameterOf(parsed.error));
    values.set(req, parsed.data);
    next();
  };
  return Object.assign(middleware, {
    of(req: Request): z.output<S> {
      if (!values.has(req)) throw new Error(`validate('${part}') did not run before this handler`);
      return values.get(req) as z.output<S>;
    },
  });
}
