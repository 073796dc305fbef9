import { Router } from 'express';
import { API_PATHS, type HealthView, type Limits, type ReadinessView, type StyleList } from '../../contract/index.js';
import type { Models } from '../services/models.js';
import type { Readiness } from '../services/readiness.js';

/** Health, readiness, the style list and the upload limits (what the server accepts, so the browser can refuse a file before uploading it). */
export function metaRoutes(models: Models, readiness: Readiness, limits: Limits): Router {
  const router = Router();

  // Answers as soon as the port is bound, whatever the models are doing.
  router.get(API_PATHS.health, (_req, res) => {
    res.json({ status: 'ok' } satisfies HealthView);
  });

  router.get(API_PATHS.ready, async (_req, res) => {
    const { ready, checks } = await readiness.check();
    const state = models.state;
    if (ready && state.status === 'ready') {
      res.json({ status: 'ready', models: { version: state.version, styles: state.styles }, checks } satisfies ReadinessView);
      return;
    }
    const problem = Object.values(checks).find((check) => check !== 'ok' && check !== 'loading');
    const status = state.status === 'ready' ? 'unavailable' : state.status;
    res.status(503).set('Retry-After', '5').json({ status, ...(problem ? { message: problem } : {}), checks } satisfies ReadinessView);
  });

  router.get(API_PATHS.styles, (_req, res) => {
    const catalog = models.catalog();
    res.json({ styles: catalog.list(), defaultStyle: catalog.defaultStyle } satisfies StyleList);
  });

  router.get(API_PATHS.limits, (_req, res) => {
    res.json(limits);
  });

  return router;
}
