import { Router } from 'express';
import { API_PATHS, AppError, enrichParamsSchema } from '../../contract/index.js';
import type { JobService } from '../services/job-service.js';
import { sendResult } from './send-result.js';
import { audioUpload, discardUploadOnError, optionalTexture, requireUpload, type UploadLimits } from './upload.js';
import { validate } from './validate.js';

/**
 * `POST /api/enrich`: the one-shot call for curl. It runs a job and answers with the audio itself; its files
 * are removed once the answer is sent, or when the client hangs up, which also cancels the work.
 */
export function enrichRoutes(jobs: JobService, limits: UploadLimits): Router {
  const router = Router();
  const form = validate('body', enrichParamsSchema);
  router.post(API_PATHS.enrich, audioUpload(limits), form, async (req, res) => {
    // Answered once and deleted: no listening copies are made for it.
    const job = await jobs.submit(requireUpload(req), form.of(req), optionalTexture(req), { oneShot: true });

    const abandon = () => {
      if (!res.writableFinished) void jobs.remove(job.id).catch(() => undefined);
    };
    res.on('close', abandon);

    const settled = await jobs.settled(job.id);
    if (res.destroyed) return;
    if (settled.status === 'failed' && settled.error) {
      const { code, message, headers, status } = settled.error;
      throw new AppError(code, message, { ...headers, 'X-Job-Id': job.id }, status);
    }
    await sendResult(res, jobs, settled, settled.params.format);
    res.off('close', abandon);
    // The client has its audio; keeping input and result for the TTL would only fill the disk (110 MB for a
    // 10-minute song). The jobs API is the one that keeps results.
    await jobs.remove(job.id).catch(() => undefined);
  });
  router.use(discardUploadOnError);
  return router;
}
