import type { OutputFormat } from './formats.js';

/** A client's file name with every character outside a safe few replaced: fit for a Content-Disposition header. */
export function safeFileName(name: string): string {
  return name.replace(/[^A-Za-z0-9 ._-]+/g, '_');
}

/**
 * `<name>.<styles>.enriched.<ext>`: what a result is called when it is downloaded or written by the CLI,
 * built only from safe characters whatever the upload was called.
 */
export function downloadName(inputName: string, weights: Record<string, number>, format: OutputFormat): string {
  const base =
    safeFileName(inputName.replace(/\.[^.]*$/, ''))
      .replace(/\.{2,}/g, '.')
      .replace(/^[ ._]+|[ ._]+$/g, '')
      .slice(0, 80) || 'audio';
  return `${base}.${Object.keys(weights).join('+')}.enriched.${format}`;
}
