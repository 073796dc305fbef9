import { z } from 'zod/mini';

/** The formats a result can be downloaded in; the first is the default and the master every other is encoded from. */
export const OUTPUT_FORMATS = ['wav', 'mp3', 'flac', 'ogg'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];
/** The formats ffmpeg encodes from the WAV master. */
export type CompressedFormat = Exclude<OutputFormat, 'wav'>;

export const DEFAULT_FORMAT: OutputFormat = OUTPUT_FORMATS[0];

export const CONTENT_TYPES: Record<OutputFormat, string> = {
  wav: 'audio/wav',
  mp3: 'audio/mpeg',
  flac: 'audio/flac',
  ogg: 'audio/ogg',
};

export const outputFormatSchema = z.enum(OUTPUT_FORMATS, { error: `must be one of ${OUTPUT_FORMATS.join(', ')}` });

/** A format as a request names it (form field, query, CLI option): `MP3` means mp3, as `Rain` means rain. */
export const requestedFormatSchema = z.pipe(
  z.transform((value: unknown) => (typeof value === 'string' ? value.trim().toLowerCase() : value)),
  outputFormatSchema,
);
