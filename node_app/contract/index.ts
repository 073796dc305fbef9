/**
 * The API contract, the one place it is written: the server, the CLI and the web app import it from here.
 * Pure TypeScript and zod, no Node or DOM APIs, so it runs on both sides.
 */
export * from './album.js';
export * from './download-name.js';
export * from './errors.js';
export * from './formats.js';
export * from './intensity.js';
export * from './job-state.js';
export * from './params.js';
export * from './paths.js';
export * from './recipe.js';
export * from './style-mix.js';
export * from './style-spec.js';
export * from './views.js';
