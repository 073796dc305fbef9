import { Router } from 'express';
import { attachmentDisposition, enrichParamsSchema, errors, feedbackSchema, resultQuerySchema, safeFileName } from '../../contract/index.js';
import type { JobQueue } from '../services/job-queue.js';
import type { Job } from '../services/job-service.js';
import { presentJob, presentRecipe } from './presenters.js';
import { sendResult, sendStored } from './send-result.js';
import { audioUpload, discardUploadOnError, requireUpload, type UploadLimits } from './upload.js';
import { validate } from './validate.js';

/** The jobs API: for the browser and for files too long for one request through Heroku's router. */
export function jobRoutes(jobs: JobQueue, limits: UploadLimits): Router {
  const router = Router();
  const form = validate('body', enrichParamsSchema);
  const resultQuery = validate('query', resultQuerySchema);
  const feedback = validate('body', feedbackSchema);

  router.post('/api/jobs', audioUpload(limits), form, async (req, res) => {
    const job = await jobs.submit(requireUpload(req), form.of(req));
    res.status(202).location(`/api/jobs/${job.id}`).json(presentJob(job));
  });

  router.get('/api/jobs/:id', async (req, res) => {
    res.json(presentJob(await jobs.get(req.params.id)));
  });

  router.get('/api/jobs/:id/events', async (req, res) => {
    const job = await jobs.get(req.params.id);
    res.set({ 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
    res.flushHeaders();
    const send = (current: Job) => {
      res.write(`event: job\ndata: ${JSON.stringify(presentJob(current))}\n\n`);
      if (current.status === 'done' || current.status === 'failed') res.end();
    };
    // Heroku's router drops a connection that is silent for 55 s; a comment line keeps it open.
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), 20_000);
    const unsubscribe = jobs.subscribe(job.id, send);
    res.on('close', () => {
      clearInterval(heartbeat);
      void Promise.resolve(unsubscribe).then((stop) => stop());
    });
    await unsubscribe;
    // The state once subscribed, so no change between the first look and the subscription is missed; a job
    // deleted meanwhile ends the stream.
    await Promise.resolve(jobs.get(job.id)).then(send, () => res.end());
  });

  router.get('/api/jobs/:id/result', resultQuery, async (req, res) => {
    const job = await jobs.get(req.params.id);
    await sendResult(res, jobs, job, resultQuery.of(req).format ?? job.params.format);
  });

  router.get('/api/jobs/:id/input', async (req, res) => {
    const job = await jobs.get(req.params.id);
    const file = await jobs.inputPath(job.id);
    // Served as a download, never rendered: it is a stranger's file.
    res.set({
      'Content-Disposition': attachmentDisposition(safeFileName(job.input.name, 100) || 'input'),
      'Content-Type': 'application/octet-stream',
      'X-Content-Type-Options': 'nosniff',
    });
    await sendStored(res, file);
  });

  router.get('/api/jobs/:id/peaks', async (req, res) => {
    const job = await jobs.get(req.params.id);
    const peaks = await jobs.peaks(job.id).catch(() => {
      throw errors.jobNotFound();
    });
    // Final peaks never change; while the job runs they grow, so nothing may keep them.
    res.set('Cache-Control', peaks.complete ? 'private, max-age=3600' : 'no-store').json(peaks);
  });

  router.get('/api/jobs/:id/recipe', async (req, res) => {
    const job = await jobs.get(req.params.id);
    res.attachment(`${job.id}.recipe.json`).json(presentRecipe(job));
  });

  router.post('/api/jobs/:id/feedback', feedback, async (req, res) => {
    const job = await jobs.get(req.params.id);
    res.json(presentJob(await jobs.setFeedback(job.id, feedback.of(req).rating)));
  });

  router.delete('/api/jobs/:id', async (req, res) => {
    const job = await jobs.get(req.params.id);
    await jobs.remove(job.id);
    res.status(204).end();
  });

  router.use(discardUploadOnError);
  return router;
}
