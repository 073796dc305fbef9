import type { OutputFormat, ResultPart } from './formats.js';

/**
 * A name a person gave a file, made safe to offer back as a file name: letters of any script, digits, spaces,
 * punctuation and emoji are kept ("Café – Ünïcode 🎵 song"); path separators, control characters and the
 * characters Windows refuses in names become "_"; leading and trailing dots and spaces go, so the name can
 * neither climb folders nor hide. Empty when nothing is left.
 */
export function safeFileName(name: string, maxCharacters = 80): string {
  const cleaned = name
    .normalize('NFC')
    .replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}/\\:*?"<>|]+/gu, '_')
    .replace(/\.{2,}/g, '.')
    .replace(/^[\s._]+|[\s._]+$/gu, '');
  // By code point, so an emoji is never cut in half.
  return Array.from(cleaned).slice(0, maxCharacters).join('').trim();
}

/**
 * `<name>.<styles>.enriched.<ext>` (`.layer.` for the added layer alone): what a result is called when it is
 * downloaded or written by the CLI, whatever the upload was called (see {@link safeFileName}).
 */
export function downloadName(inputName: string, weights: Record<string, number>, format: OutputFormat, part: ResultPart = 'mix'): string {
  return resultName(baseName(inputName), weights, format, part);
}

/**
 * The names of an album's results inside its zip, in the order of `inputNames`: each as {@link downloadName}
 * calls it, and a name that an earlier one already took (letter case aside, as Windows and macOS compare names)
 * gets " (2)", " (3)" … after its base name.
 */
export function batchResultNames(inputNames: readonly string[], weights: Record<string, number>, format: OutputFormat): string[] {
  const taken = new Set<string>();
  return inputNames.map((inputName) => {
    const base = baseName(inputName);
    let name = base;
    for (let count = 2; taken.has(name.toLowerCase()); count++) name = `${base} (${count})`;
    taken.add(name.toLowerCase());
    return resultName(name, weights, format, 'mix');
  });
}

function resultName(base: string, weights: Record<string, number>, format: OutputFormat, part: ResultPart): string {
  return `${base}.${Object.keys(weights).join('+')}.${part === 'layer' ? 'layer' : 'enriched'}.${format}`;
}

/** `<name>.original.<ext>`: the part of the upload that was enriched, as the listening copy it is compared with. */
export function originalName(inputName: string, format: OutputFormat): string {
  return `${baseName(inputName)}.original.${format}`;
}

function baseName(inputName: string): string {
  return safeFileName(inputName.replace(/\.[^.]*$/, '')) || 'audio';
}

/**
 * `Content-Disposition` for a download named `fileName` (already safe): `filename` in quotes for every client,
 * with anything outside printable ASCII as "_", and, when the name has such characters, RFC 6266's
 * `filename*` with the real name in UTF-8, which browsers prefer.
 */
export function attachmentDisposition(fileName: string): string {
  const ascii = fileName.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
  if (ascii === fileName) return `attachment; filename="${ascii}"`;
  const encoded = encodeURIComponent(fileName).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}
