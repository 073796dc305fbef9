import { z } from 'zod/mini';

/** The formats a result can be downloaded in; the first is the default and the master every other is encoded from. */
export const OUTPUT_FORMATS = ['wav', 'mp3', 'flac', 'ogg'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];
/** The formats ffmpeg encodes from the WAV master. */
export type CompressedFormat = Exclude<OutputFormat, 'wav'>;

/**
 * What the browser plays: every job encodes its result, and the part of its input it enriched, to this format
 * while it runs, so Play streams at once (a WAV master would ask 1.4 Mbit/s of a phone's connection).
 */
export const LISTENING_FORMAT = 'mp3' satisfies CompressedFormat;

export const DEFAULT_FORMAT: OutputFormat = OUTPUT_FORMATS[0];

export const CONTENT_TYPES: Record<OutputFormat, string> = {
  wav: 'audio/wav',
  mp3: 'audio/mpeg',
  flac: 'audio/flac',
  ogg: 'audio/ogg',
};

/**
 * The parts of a result that can be downloaded: the enriched song (`mix`), or only what the style added
 * (`layer`), sample-aligned with the input and as long, for mixing oneself.
 */
export const RESULT_PARTS = ['mix', 'layer'] as const;
export type ResultPart = (typeof RESULT_PARTS)[number];
export const resultPartSchema = z.enum(RESULT_PARTS, { error: `must be one of ${RESULT_PARTS.join(', ')}` });

export const outputFormatSchema = z.enum(OUTPUT_FORMATS, { error: `must be one of ${OUTPUT_FORMATS.join(', ')}` });

/** A format as a request names it (form field, query, CLI option): `MP3` means mp3, as `Rain` means rain. */
export const requestedFormatSchema = z.pipe(
  z.transform((value: unknown) => (typeof value === 'string' ? value.trim().toLowerCase() : value)),
  outputFormatSchema,
);
