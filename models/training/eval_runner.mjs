// Runs a list of enrich jobs through an app checkout's own services (the same createServices() the server
// and the CLI use), loading the models once. Used by eval.py so the evaluation judges the model through the
// real app, whatever engine and model version the checkout holds.
//
// usage (cwd = the app root): <app>/node_modules/.bin/tsx models/training/eval_runner.mjs <appRoot> <jobs.json> <results.json>
// jobs.json: [{"input": "/abs/in.wav", "style": "rain", "amount": 0.5, "seed": 7, "output": "/abs/out.wav"}, ...]
import { createWriteStream } from 'node:fs';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const [appRoot, jobsFile, resultsFile] = process.argv.slice(2);
if (!appRoot || !jobsFile || !resultsFile) {
  console.error('usage: eval_runner.mjs <appRoot> <jobs.json> <results.json>');
  process.exit(2);
}
process.chdir(appRoot);
const load = (rel) => import(pathToFileURL(path.join(appRoot, rel)).href);
const { createServices } = await load('node_app/server/compose.ts');
const { loadConfig } = await load('node_app/server/config.ts');
const { createLogger } = await load('node_app/server/logger.ts');
// the contract module (issue 16) where the checkout has one, else the route module older checkouts kept it in
const { parseEnrichParams } = await load('node_app/contract/params.ts').catch(() => load('node_app/server/routes/upload.ts'));

const jobsIn = JSON.parse(await readFile(jobsFile, 'utf8'));
const scratch = await mkdtemp(path.join(os.tmpdir(), 'noise-enricher-eval-'));
const config = loadConfig({
  ...process.env,
  LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
  DATA_DIR: scratch,
  MODELS_DIR: path.join(appRoot, 'models'),
  WORKERS: '1',
  MAX_QUEUE: '0',
  MAX_DURATION_S: String(6 * 3600),
  MIN_FREE_DISK_MB: '0',
  // this process runs the jobs itself, whatever queue a server configured in the same environment uses
  REDIS_URL: '',
  FILE_STORAGE: 'local',
});
const { models, jobs } = await createServices(config, createLogger(config.logLevel));
const results = [];
let failed = 0;
try {
  await models.start();
  // checkouts with one job lifecycle (issue 24) take jobs from their queue only once started
  jobs.start?.();
  for (const [i, j] of jobsIn.entries()) {
    const t0 = performance.now();
    const staged = path.join(scratch, `input-${i}`);
    await copyFile(j.input, staged);
    const params = parseEnrichParams({ style: j.style, amount: String(j.amount), seed: String(j.seed), format: 'wav' });
    let texture;
    if (j.texture) {
      // the style `own`: a held-out recording given as the user's own texture
      texture = { path: path.join(scratch, `texture-${i}`), originalName: path.basename(j.texture) };
      await copyFile(j.texture, texture.path);
    }
    // one-shot, as the CLI's: no listening copies (two mp3 encodes a job) that nobody here plays
    const submitted = await jobs.submit({ path: staged, originalName: path.basename(j.input) }, params, texture, { oneShot: true });
    const job = await jobs.settled(submitted.id);
    if (job.status === 'failed') {
      failed += 1;
      results.push({ ...j, ok: false, error: job.error ?? 'failed' });
      continue;
    }
    if (jobs.resultPath) await copyFile(await jobs.resultPath(job.id, 'wav'), j.output);
    else await pipeline((await (await jobs.result(job.id, 'wav')).open()).body, createWriteStream(j.output));
    results.push({ ...j, ok: true, ms: Math.round(performance.now() - t0) });
    if ((i + 1) % 12 === 0) console.log(`  ${i + 1}/${jobsIn.length} jobs`);
  }
} finally {
  await jobs.shutdown?.(5_000);
  await models.close();
  await rm(scratch, { recursive: true, force: true });
  await writeFile(resultsFile, JSON.stringify(results, null, 1));
}
process.exitCode = failed ? 1 : 0;
