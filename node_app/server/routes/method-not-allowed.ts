import type { RequestHandler, Router } from 'express';
import { errors } from '../../contract/index.js';

interface RouteLayer {
  route?: { path: string | string[]; methods: Record<string, boolean> };
}

/**
 * Answers a known path asked with a method it does not take (`GET /api/enrich`) with 405 and `Allow`, rather
 * than the 404 that says the path does not exist. The methods are read from the router's own routes, so
 * they cannot drift from what it serves. OPTIONS is left to Express, which answers it with `Allow` itself.
 */
export function refuseOtherMethods(router: Router): Router {
  const allowed = new Map<string, Set<string>>();
  for (const layer of router.stack as RouteLayer[]) {
    if (!layer.route) continue;
    for (const path of [layer.route.path].flat()) {
      const methods = allowed.get(path) ?? new Set<string>();
      for (const method of Object.keys(layer.route.methods)) {
        if (method === '_all') continue;
        methods.add(method.toUpperCase());
        if (method === 'get') methods.add('HEAD');
      }
      allowed.set(path, methods);
    }
  }
  for (const [path, methods] of allowed) router.all(path, methodNotAllowed([...methods]));
  return router;
}

function methodNotAllowed(methods: readonly string[]): RequestHandler {
  return (req, _res, next) => {
    if (req.method === 'OPTIONS') return next();
    next(errors.methodNotAllowed(req.method, req.originalUrl.split('?')[0], methods));
  };
}
