import { constants, createWriteStream } from 'node:fs';
import { access, copyFile, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { AppError, downloadName, KEEP_MODES, LOUDNESS_RANGE, MATCH_LOUDNESS, MAX_INTENSITY_POINTS, OUTPUT_FORMATS, OWN_STYLE, parseEnrichParams, RANDOM_STYLE, type JobOutput } from '../contract/index.js';
import { createServices } from '../server/compose.js';
import { loadConfig } from '../server/config.js';
import { createLogger } from '../server/logger.js';

const USAGE = `Usage: npm run enrich -- <input> [--style rain|rain:0.7,blues:0.3|${RANDOM_STYLE}|${OWN_STYLE}] [--amount 0.5] [--seed N]
                     [--format ${OUTPUT_FORMATS.join('|')}] [--start S] [--end S] [--keep ${KEEP_MODES.join('|')}] [--texture FILE] [--loudness=LUFS|${MATCH_LOUDNESS}]
                     [--intensity 0:0,10:1,...] [-o output]
  --keep whole     with --start/--end: write the whole file, enriched only in that section (default: the section alone)
  --texture FILE   your own recording (3 s to 2 minutes) for the style ${OWN_STYLE}, alone or in a mix
  --loudness=L     the result's integrated loudness: ${LOUDNESS_RANGE.min} to ${LOUDNESS_RANGE.max} LUFS (--loudness=-14 for streaming,
                   -23 for broadcast), or ${MATCH_LOUDNESS} to keep the input's; the true peak stays under -1 dBTP
  --intensity C    how much of the amount each moment gets: seconds:value points (values 0 to 1, at most
                   ${MAX_INTENSITY_POINTS}), linear between them and held outside them, in the file's own time`;

/**
 * The folder the person typed the command in. `npm run` starts scripts in the package's root and says where it
 * was called from in INIT_CWD; read only when npm ran this script, since a parent's INIT_CWD is inherited.
 */
const workingDir = process.env.npm_lifecycle_event === 'enrich' && process.env.INIT_CWD ? process.env.INIT_CWD : process.cwd();

/** Batch use of the same service the API runs: one file in, one enriched file out, beside it unless `-o` says where. */
async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      style: { type: 'string' },
      amount: { type: 'string' },
      seed: { type: 'string' },
      format: { type: 'string' },
      start: { type: 'string' },
      end: { type: 'string' },
      keep: { type: 'string' },
      output: { type: 'string', short: 'o' },
      texture: { type: 'string' },
      loudness: { type: 'string' },
      intensity: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help || !positionals[0]) {
    console.log(USAGE);
    return values.help ? 0 : 2;
  }
  const input = path.resolve(workingDir, positionals[0]);
  const { output, texture: textureArg, help: _help, ...fields } = values;
  const texture = textureArg === undefined ? undefined : path.resolve(workingDir, textureArg);
  const params = parseEnrichParams({ format: output ? path.extname(output).slice(1) : undefined, ...fields });
  // Checked before the models load, so a mistyped name is reported at once.
  await access(input, constants.R_OK);
  if (texture) await access(texture, constants.R_OK);

  const scratch = await mkdtemp(path.join(os.tmpdir(), 'noise-enricher-'));
  const config = loadConfig({
    ...process.env,
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    DATA_DIR: scratch,
    WORKERS: '1',
    MAX_QUEUE: '0',
    // A file on your own machine: no upload limits, and no reserve for other users' jobs.
    MAX_DURATION_S: String(6 * 3600),
    MIN_FREE_DISK_MB: '0',
    // This process runs the job itself, whatever queue a server configured in the same environment uses.
    REDIS_URL: '',
    FILE_STORAGE: 'local',
  });
  const { models, jobs } = await createServices(config, createLogger(config.logLevel));
  try {
    await models.start();
    jobs.start();
    // The service takes ownership of what it is given, so it gets a copy of the user's file.
    const staged = path.join(scratch, 'input');
    await copyFile(input, staged);
    let ownTexture;
    if (texture) {
      ownTexture = { path: path.join(scratch, 'texture'), originalName: path.basename(texture) };
      await copyFile(texture, ownTexture.path);
    }
    const submitted = await jobs.submit({ path: staged, originalName: path.basename(input) }, params, ownTexture, { oneShot: true });
    const job = await jobs.settled(submitted.id);
    if (job.error) throw job.error;
    const target = path.resolve(workingDir, output ?? path.join(path.dirname(input), downloadName(path.basename(input), job.params.weights, params.format)));
    await pipeline((await (await jobs.result(job.id, params.format)).open()).body, createWriteStream(target));
    console.log(`${path.relative(workingDir, target)}  style=${job.params.style} amount=${job.params.amount} seed=${job.params.seed}${job.params.intensity ? ` intensity=${job.params.intensity}` : ''}${describeLoudness(job.output)}`);
    return 0;
  } catch (error) {
    console.error(describeFailure(error));
    return 1;
  } finally {
    await models.close();
    await rm(scratch, { recursive: true, force: true });
  }
}

/** The loudness before and after, for a job that had a target. */
function describeLoudness(output: JobOutput | undefined): string {
  const report = output?.loudness;
  if (!report) return '';
  const level = (reading: { integrated: number | null; truePeak: number | null }) =>
    `${reading.integrated ?? '-inf'} LUFS, true peak ${reading.truePeak ?? '-inf'} dBTP`;
  return `\n  loudness: input ${level(report.input)} -> result ${level(report.result)} (gain ${report.gainDb} dB)`;
}

/** One line for what went wrong: a mistake on the command line or a missing file is not a crash. */
function describeFailure(error: unknown): string {
  if (error instanceof AppError) return `${error.code}: ${error.message}`;
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')) return `${message}\n${USAGE}`;
  if (code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR') {
    const file = (error as { path?: string }).path;
    return `Cannot read ${file ? path.relative(workingDir, file) : 'the input'}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a folder' : 'permission denied'}.`;
  }
  return `Enrichment failed: ${message}`;
}

process.exitCode = await main().catch((error: unknown) => {
  console.error(describeFailure(error));
  return 1;
});
