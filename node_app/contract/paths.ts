import type { OutputFormat, ResultPart } from './formats.js';

/**
 * Every URL of the API and the web app, written once: the server mounts its routes on them (called with
 * `:id`, Express's parameter, whose name the literal types carry to the handlers), the presenters link to
 * them and the web app calls them (with an id it has encoded).
 */
export const API_PATHS = {
  health: '/healthz',
  ready: '/readyz',
  styles: '/api/styles',
  limits: '/api/limits',
  enrich: '/api/enrich',
  jobs: '/api/jobs',
  job: <I extends string>(id: I) => `/api/jobs/${id}` as const,
  events: <I extends string>(id: I) => `/api/jobs/${id}/events` as const,
  result: <I extends string>(id: I) => `/api/jobs/${id}/result` as const,
  input: <I extends string>(id: I) => `/api/jobs/${id}/input` as const,
  original: <I extends string>(id: I) => `/api/jobs/${id}/original` as const,
  peaks: <I extends string>(id: I) => `/api/jobs/${id}/peaks` as const,
  recipe: <I extends string>(id: I) => `/api/jobs/${id}/recipe` as const,
  feedback: <I extends string>(id: I) => `/api/jobs/${id}/feedback` as const,
  batches: '/api/batches',
  batch: <I extends string>(id: I) => `/api/batches/${id}` as const,
  batchDownload: <I extends string>(id: I) => `/api/batches/${id}/download` as const,
  openapi: '/api/openapi.json',
} as const;

/** The result in a format, as a link. */
export const resultUrl = (id: string, format: OutputFormat, part: ResultPart = 'mix'): string =>
  `${API_PATHS.result(id)}?format=${format}${part === 'mix' ? '' : `&part=${part}`}`;

/** The web app's pages; `job` is the result page a share link opens. */
export const PAGE_PATHS = {
  home: '/',
  job: <I extends string>(id: I) => `/r/${id}` as const,
  /** An album's page: its songs' progress, then the one download. */
  batch: <I extends string>(id: I) => `/a/${id}` as const,
  about: '/about',
  faq: '/faq',
} as const;
