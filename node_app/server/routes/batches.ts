import { pipeline } from 'node:stream/promises';
import { Router } from 'express';
import { API_PATHS, attachmentDisposition, enrichParamsSchema } from '../../contract/index.js';
import { zipStream } from '../adapters/archive/zip-writer.js';
import type { Logger } from '../logger.js';
import type { BatchService } from '../services/batch-service.js';
import { presentBatch } from './presenters.js';
import { batchUpload, discardUploadOnError, requireBatchUploads, type BatchUploadLimits, type UploadLimits } from './upload.js';
import { validate } from './validate.js';

/** Album mode: several files enriched the same way, followed together and downloaded as one zip. */
export function batchRoutes(batches: BatchService, limits: UploadLimits, batchLimits: BatchUploadLimits, logger: Logger): Router {
  const router = Router();
  const form = validate('body', enrichParamsSchema);

  router.post(API_PATHS.batches, batchUpload(limits, batchLimits), form, async (req, res) => {
    const batch = await batches.submit(requireBatchUploads(req, batchLimits), form.of(req));
    res.status(202).location(API_PATHS.batch(batch.id)).json(presentBatch(batch));
  });

  router.get(API_PATHS.batch(':id'), async (req, res) => {
    res.json(presentBatch(await batches.get(req.params.id)));
  });

  router.get(API_PATHS.batchDownload(':id'), async (req, res) => {
    const { fileName, entries } = await batches.download(req.params.id);
    res.set({ 'Content-Type': 'application/zip', 'Content-Disposition': attachmentDisposition(fileName), 'Cache-Control': 'no-store' });
    // Once the first bytes are out an error can no longer be answered: the connection is cut, so the client sees a
    // broken download rather than a zip that ends early and looks whole.
    await pipeline(zipStream(entries), res).catch((error: unknown) => {
      if (!res.writableEnded && !req.destroyed) logger.warn({ err: error, batchId: req.params.id }, 'album download cut short');
      res.destroy();
    });
  });

  router.delete(API_PATHS.batch(':id'), async (req, res) => {
    await batches.remove(req.params.id);
    res.status(204).end();
  });

  router.use(discardUploadOnError);
  return router;
}
