import { Router } from 'express';
import { API_PATHS, attachmentDisposition, CONTENT_TYPES, enrichParamsSchema, LISTENING_FORMAT, originalName, errors, feedbackSchema, isFinished, resultQuerySchema, safeFileName } from '../../contract/index.js';
import type { Job, JobService } from '../services/job-service.js';
import { presentJob, presentRecipe } from './presenters.js';
import { sendResult, sendStored } from './send-result.js';
import { audioUpload, discardUploadOnError, optionalTexture, requireUpload, type UploadLimits } from './upload.js';
import { validate } from './validate.js';

/** How often a stream of a queued job looks at its place in the line. */
const QUEUE_LOOK_MS = 2_000;

/** The jobs API: for the browser and for files too long for one request through Heroku's router. */
export function jobRoutes(jobs: JobService, limits: UploadLimits): Router {
  const router = Router();
  const form = validate('body', enrichParamsSchema);
  const resultQuery = validate('query', resultQuerySchema);
  const feedback = validate('body', feedbackSchema);

  router.post(API_PATHS.jobs, audioUpload(limits), form, async (req, res) => {
    const job = await jobs.submit(requireUpload(req), form.of(req), optionalTexture(req));
    res.status(202).location(API_PATHS.job(job.id)).json(presentJob(job));
  });

  router.get(API_PATHS.job(':id'), async (req, res) => {
    res.json(presentJob(await jobs.get(req.params.id)));
  });

  router.get(API_PATHS.events(':id'), async (req, res) => {
    const job = await jobs.get(req.params.id);
    res.set({ 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
    res.flushHeaders();
    let last: Job = job;
    const send = (current: Job) => {
      // Changes looked up across processes may arrive after the one that ended the stream.
      if (res.writableEnded) return;
      last = current;
      res.write(`event: job\ndata: ${JSON.stringify(presentJob(current))}\n\n`);
      if (isFinished(current.status)) res.end();
    };
    // Heroku's router drops a connection that is silent for 55 s; a comment line keeps it open.
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), 20_000);
    // A queued job moves up the line when other jobs start, which are not changes of its own: look again.
    const line = setInterval(() => {
      if (last.status !== 'queued') return;
      jobs.get(job.id).then((current) => current.ahead !== last.ahead && send(current), () => undefined);
    }, QUEUE_LOOK_MS);
    // A job deleted meanwhile ends the stream.
    const unsubscribe = jobs.subscribe(job.id, send, () => res.end());
    res.on('close', () => {
      clearInterval(heartbeat);
      clearInterval(line);
      unsubscribe();
    });
    // The state once subscribed, so no change between the first look and the subscription is missed.
    await jobs.get(job.id).then(send, () => res.end());
  });

  router.get(API_PATHS.result(':id'), resultQuery, async (req, res) => {
    const job = await jobs.get(req.params.id);
    const { format, part } = resultQuery.of(req);
    await sendResult(res, jobs, job, format ?? job.params.format, part);
  });

  router.get(API_PATHS.input(':id'), async (req, res) => {
    const job = await jobs.get(req.params.id);
    const file = await jobs.input(job.id);
    // Served as a download, never rendered: it is a stranger's file.
    res.set({
      'Content-Disposition': attachmentDisposition(safeFileName(job.input.name, 100) || 'input'),
      'Content-Type': 'application/octet-stream',
      'X-Content-Type-Options': 'nosniff',
    });
    await sendStored(res, file);
  });

  router.get(API_PATHS.original(':id'), async (req, res) => {
    const job = await jobs.get(req.params.id);
    const file = await jobs.original(job.id);
    res.set({
      'Content-Type': CONTENT_TYPES[LISTENING_FORMAT],
      'Content-Disposition': attachmentDisposition(originalName(job.input.name, LISTENING_FORMAT)),
    });
    await sendStored(res, file, { 'Cache-Control': 'private, max-age=3600' });
  });

  router.get(API_PATHS.peaks(':id'), async (req, res) => {
    const job = await jobs.get(req.params.id);
    const peaks = await jobs.peaks(job.id).catch(() => {
      throw errors.jobNotFound();
    });
    // Final peaks never change; while the job runs they grow, so nothing may keep them.
    res.set('Cache-Control', peaks.complete ? 'private, max-age=3600' : 'no-store').json(peaks);
  });

  router.get(API_PATHS.recipe(':id'), async (req, res) => {
    const job = await jobs.get(req.params.id);
    res.attachment(`${job.id}.recipe.json`).json(presentRecipe(job));
  });

  router.post(API_PATHS.feedback(':id'), feedback, async (req, res) => {
    const job = await jobs.get(req.params.id);
    res.json(presentJob(await jobs.setFeedback(job.id, feedback.of(req).rating)));
  });

  router.delete(API_PATHS.job(':id'), async (req, res) => {
    const job = await jobs.get(req.params.id);
    await jobs.remove(job.id);
    res.status(204).end();
  });

  router.use(discardUploadOnError);
  return router;
}
