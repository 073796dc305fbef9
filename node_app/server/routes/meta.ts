import { Router } from 'express';
import type { Models } from '../services/models.js';
import type { Readiness } from '../services/readiness.js';

/** What the server accepts, so the browser can refuse a file before uploading it. */
export interface PublicLimits {
  maxUploadBytes: number;
  maxDurationSeconds: number;
}

/** Health, readiness, the style list and the upload limits. */
export function metaRoutes(models: Models, readiness: Readiness, limits: PublicLimits): Router {
  const router = Router();

  // Answers as soon as the port is bound, whatever the models are doing.
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  router.get('/readyz', async (_req, res) => {
    const { ready, checks } = await readiness.check();
    const state = models.state;
    if (ready && state.status === 'ready') {
      res.json({ status: 'ready', models: { version: state.version, styles: state.styles }, checks });
      return;
    }
    const problem = Object.values(checks).find((check) => check !== 'ok' && check !== 'loading');
    const status = state.status === 'ready' ? 'unavailable' : state.status;
    res.status(503).set('Retry-After', '5').json({ status, ...(problem ? { message: problem } : {}), checks });
  });

  router.get('/api/styles', (_req, res) => {
    const catalog = models.catalog();
    res.json({ styles: catalog.list(), defaultStyle: catalog.defaultStyle });
  });

  router.get('/api/limits', (_req, res) => {
    res.json(limits);
  });

  return router;
}
