import { Router } from 'express';
import { z } from 'zod/mini';
import {
  API_PATHS,
  BATCH_FILES,
  batchViewSchema,
  CONTENT_TYPES,
  LISTENING_FORMAT,
  enrichParamsSchema,
  errorBodySchema,
  feedbackSchema,
  healthSchema,
  jobPeaksSchema,
  jobViewSchema,
  limitsSchema,
  readinessSchema,
  recipeSchema,
  resultQuerySchema,
  styleListSchema,
} from '../../contract/index.js';

type Schema = z.ZodMiniType;

/** What an operation answers when it succeeds: JSON of a schema, a file, an event stream, or nothing. */
type Success = { status: number; description: string } & ({ json: Schema } | { media: readonly string[] } | { events: Schema } | object);

/** One operation of the API, described with the contract's own schemas. */
export interface Operation {
  method: 'get' | 'post' | 'delete';
  /** As Express mounts it, from API_PATHS (`:id` for the job's id). */
  path: string;
  summary: string;
  query?: Schema;
  /** A multipart form: the enrich fields, the `audio` file and, for the style "own", the `texture` file. */
  form?: Schema;
  /** The form takes several files in `audio` (an album), between these counts, and no `texture`. */
  audioFiles?: { min: number; max: number };
  json?: Schema;
  ok: Success;
  /** Response headers of a successful answer, by name and meaning. */
  headers?: Record<string, string>;
}

const JOB = ':id';
const RESULT_HEADERS = {
  'X-Enrich-Style': 'the style as the job settled it (canonical form)',
  'X-Enrich-Seed': 'the seed the job used; the same input, style, amount and seed give the same bytes',
  'X-Job-Id': "the job's id",
};

/** Every operation the server answers; `test/openapi.test.ts` fails when a mounted route is missing here. */
export const OPERATIONS: readonly Operation[] = [
  { method: 'get', path: API_PATHS.health, summary: 'The port is bound', ok: { status: 200, description: 'always', json: healthSchema } },
  {
    method: 'get',
    path: API_PATHS.ready,
    summary: 'Whether a job can run end to end (models, ffmpeg, storage); 503 with Retry-After until then',
    ok: { status: 200, description: 'ready', json: readinessSchema },
  },
  { method: 'get', path: API_PATHS.styles, summary: 'The styles there are, and the default', ok: { status: 200, description: 'the catalog', json: styleListSchema } },
  { method: 'get', path: API_PATHS.limits, summary: 'What uploads are held to', ok: { status: 200, description: 'the limits', json: limitsSchema } },
  {
    method: 'post',
    path: API_PATHS.enrich,
    summary: 'The one-shot call: the enriched audio itself',
    form: enrichParamsSchema,
    ok: { status: 200, description: 'the result, as an attachment', media: Object.values(CONTENT_TYPES) },
    headers: RESULT_HEADERS,
  },
  { method: 'post', path: API_PATHS.jobs, summary: 'Starts a job; follow it at its links', form: enrichParamsSchema, ok: { status: 202, description: 'accepted', json: jobViewSchema } },
  { method: 'get', path: API_PATHS.job(JOB), summary: 'The job', ok: { status: 200, description: 'the job', json: jobViewSchema } },
  { method: 'delete', path: API_PATHS.job(JOB), summary: 'Cancels the job and deletes its files', ok: { status: 204, description: 'deleted' } },
  {
    method: 'get',
    path: API_PATHS.events(JOB),
    summary: 'Server-Sent Events (`event: job`) with the job on every change, until it is done or failed',
    ok: { status: 200, description: 'the stream', events: jobViewSchema },
  },
  {
    method: 'get',
    path: API_PATHS.result(JOB),
    summary:
      "The result, in the job's format unless `format` asks for another; with `part=layer` only what the style added, sample-aligned with the input and as long; byte ranges work",
    query: resultQuerySchema,
    ok: { status: 200, description: 'the result, as an attachment (206 for a range)', media: Object.values(CONTENT_TYPES) },
    headers: RESULT_HEADERS,
  },
  {
    method: 'get',
    path: API_PATHS.input(JOB),
    summary: 'The upload, as it was sent; byte ranges work',
    ok: { status: 200, description: 'the upload, as an attachment (206 for a range)', media: ['application/octet-stream'] },
  },
  {
    method: 'get',
    path: API_PATHS.original(JOB),
    summary: 'The part of the upload that was enriched (the section, or all of it), as mp3 encoded once the job is done (a request waits for that encode): what the result compares with; byte ranges work',
    ok: { status: 200, description: 'the original, as an attachment (206 for a range)', media: [CONTENT_TYPES[LISTENING_FORMAT]] },
  },
  { method: 'get', path: API_PATHS.peaks(JOB), summary: 'Waveform levels of the input and the result', ok: { status: 200, description: 'the peaks', json: jobPeaksSchema } },
  { method: 'get', path: API_PATHS.recipe(JOB), summary: 'What it takes to repeat the job', ok: { status: 200, description: 'the recipe', json: recipeSchema } },
  { method: 'post', path: API_PATHS.feedback(JOB), summary: 'Rates the result', json: feedbackSchema, ok: { status: 200, description: 'the job', json: jobViewSchema } },
  {
    method: 'post',
    path: API_PATHS.batches,
    summary: `An album: ${BATCH_FILES.min} to ${BATCH_FILES.max} files in \`audio\`, enriched with the same fields (and one seed); one job each`,
    form: enrichParamsSchema,
    audioFiles: BATCH_FILES,
    ok: { status: 202, description: 'accepted', json: batchViewSchema },
  },
  { method: 'get', path: API_PATHS.batch(JOB), summary: "The album: every song's job, and the album's status and progress", ok: { status: 200, description: 'the album', json: batchViewSchema } },
  { method: 'delete', path: API_PATHS.batch(JOB), summary: 'Cancels every song of the album and deletes their files', ok: { status: 204, description: 'deleted' } },
  {
    method: 'get',
    path: API_PATHS.batchDownload(JOB),
    summary: "The album as one zip (stored, not compressed): recipe.json, CREDITS.txt and every song's result, named after its file; 409 until every song has finished",
    ok: { status: 200, description: 'the zip, as an attachment', media: ['application/zip'] },
  },
  {
    method: 'get',
    path: API_PATHS.openapi,
    summary: 'This description',
    ok: { status: 200, description: 'OpenAPI 3.1', media: ['application/json'] },
  },
];

/** A contract schema as JSON Schema (2020-12, the dialect of OpenAPI 3.1): what a client sends, or what it gets. */
function jsonSchema(schema: Schema, io: 'input' | 'output'): Record<string, unknown> {
  // Transforms (a form's text to numbers) have no JSON Schema; the shape they accept is described instead.
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Record<string, unknown>;
  return rest;
}

const AUDIO_FILE = { type: 'string', contentMediaType: 'application/octet-stream', description: 'the recording, in any container ffmpeg decodes' };

const content = (type: string, schema: Record<string, unknown>) => ({ [type]: { schema } });

function operationOf(operation: Operation): Record<string, unknown> {
  const { ok } = operation;
  const parameters = [
    ...(operation.path.includes(JOB) ? [{ name: 'id', in: 'path', required: true, schema: { type: 'string', pattern: '^[0-9a-f]{32}$' } }] : []),
    ...Object.entries((jsonSchema(operation.query ?? z.object({}), 'input').properties ?? {}) as Record<string, unknown>).map(([name, schema]) => ({
      name,
      in: 'query',
      required: false,
      schema,
    })),
  ];
  const form = operation.form && jsonSchema(operation.form, 'input');
  const requestBody = form
    ? {
        required: true,
        content: content('multipart/form-data', {
          ...form,
          properties: {
            ...(operation.audioFiles
              ? {
                  audio: {
                    type: 'array',
                    items: AUDIO_FILE,
                    minItems: operation.audioFiles.min,
                    maxItems: operation.audioFiles.max,
                    description: 'the recordings, one form part each, all in the field "audio"',
                  },
                }
              : {
                  audio: AUDIO_FILE,
                  texture: {
                    type: 'string',
                    contentMediaType: 'application/octet-stream',
                    description: 'with the style "own" only: your own recording (3 s to 2 minutes), woven in like the built-in banks',
                  },
                }),
            ...(form.properties as object),
          },
          required: ['audio'],
        }),
      }
    : operation.json && { required: true, content: content('application/json', jsonSchema(operation.json, 'input')) };
  const body =
    'json' in ok
      ? content('application/json', jsonSchema(ok.json, 'output'))
      : 'events' in ok
        ? content('text/event-stream', { type: 'string', description: `events named "job" whose data is this JSON: ${JSON.stringify(jsonSchema(ok.events, 'output'))}` })
        : 'media' in ok
          ? Object.assign({}, ...ok.media.map((type) => content(type, { type: 'string', contentMediaType: type })))
          : undefined;
  return {
    operationId: `${operation.method} ${operation.path}`,
    summary: operation.summary,
    ...(parameters.length ? { parameters } : {}),
    ...(requestBody ? { requestBody } : {}),
    responses: {
      [ok.status]: {
        description: ok.description,
        ...(body ? { content: body } : {}),
        ...(operation.headers ? { headers: Object.fromEntries(Object.entries(operation.headers).map(([name, description]) => [name, { description, schema: { type: 'string' } }])) } : {}),
      },
      default: { description: 'an error: a stable code and what to do about it (docs/api.md lists the codes)', content: content('application/json', jsonSchema(errorBodySchema, 'output')) },
    },
  };
}

/** The API as OpenAPI 3.1, generated from the contract's schemas. */
export function openApiDocument(): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const operation of OPERATIONS) {
    const path = operation.path.replace(/:(\w+)/g, '{$1}');
    paths[path] = { ...paths[path], [operation.method]: operationOf(operation) };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'The Noise Enricher', version: '1', description: 'Upload a song, pick a style, get it back enriched. docs/api.md tells the whole contract.' },
    paths,
  };
}

/** `GET /api/openapi.json`. */
export function openApiRoutes(): Router {
  const router = Router();
  const document = openApiDocument();
  router.get(API_PATHS.openapi, (_req, res) => {
    res.json(document);
  });
  return router;
}
