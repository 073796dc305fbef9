import type { OutputFormat } from './formats.js';

/**
 * `<name>.<styles>.enriched.<ext>`: what a result is called when it is downloaded or written by the CLI,
 * built only from safe characters whatever the upload was called.
 */
export function downloadName(inputName: string, weights: Record<string, number>, format: OutputFormat): string {
  const base =
    inputName
      .replace(/\.[^.]*$/, '')
      .replace(/[^A-Za-z0-9 ._-]+/g, '_')
      .replace(/\.{2,}/g, '.')
      .replace(/^[ ._]+|[ ._]+$/g, '')
      .slice(0, 80) || 'audio';
  return `${base}.${Object.keys(weights).join('+')}.enriched.${format}`;
}
