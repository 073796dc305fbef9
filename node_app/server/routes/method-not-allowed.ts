import type { RequestHandler, Router } from 'express';
import { errors } from '../../contract/index.js';

/** A route's layer as Express 5's router keeps it (its published types still describe Express 4's). */
interface RouteLayer {
  match(path: string): boolean;
  route: { methods: Record<string, boolean> };
}

function isRouteLayer(layer: object): layer is RouteLayer {
  return 'match' in layer && typeof layer.match === 'function' && 'route' in layer && typeof layer.route === 'object' && layer.route !== null && 'methods' in layer.route;
}

/**
 * The answer for a request no route took: 405 with `Allow` when the path is one the API has, asked with a
 * method it does not take (`GET /api/enrich`), else the 404 that says the path does not exist. The methods
 * are read from the routers' own routes, so they cannot drift from what is served. Placed after the routers,
 * as a plain (not error) handler, it sees only requests nothing answered, and never one already failing.
 */
export function unmatchedRequest(routers: readonly Router[]): RequestHandler {
  const layers = routers.flatMap((router): object[] => router.stack).filter(isRouteLayer);
  return (req, _res, next) => {
    const path = req.originalUrl.split('?')[0];
    const allowed = new Set<string>();
    for (const layer of layers) {
      if (!layer.match(path)) continue;
      for (const method of Object.keys(layer.route.methods)) {
        if (method === '_all') continue;
        allowed.add(method.toUpperCase());
        if (method === 'get') allowed.add('HEAD');
      }
    }
    next(allowed.size > 0 ? errors.methodNotAllowed(req.method, path, [...allowed]) : errors.notFound(req.method, path));
  };
}
