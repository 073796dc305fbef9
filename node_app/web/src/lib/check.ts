import { ErrorCode, isSectionOrdered, isSectionTooShort, MIN_SECTION_SECONDS } from '../../../contract';
import type { Limits } from '../api';

/** Why a chosen file would be refused by the server, found before a byte is uploaded: the server's code for it. */
export interface SourceProblem {
  code: typeof ErrorCode.EMPTY_FILE | typeof ErrorCode.FILE_TOO_LARGE | typeof ErrorCode.TOO_LONG | 'INVALID_SECTION';
  message: string;
}

export interface SourceFacts {
  bytes: number;
  /** Seconds, as the browser's own decoder reports them; null when it cannot tell (then the server judges). */
  duration: number | null;
  start?: number;
  end?: number;
}

/** Seconds as m:ss, the way a player shows a length. */
export const minutes = (seconds: number) => `${Math.floor(seconds / 60)}:${String(Math.floor(seconds % 60)).padStart(2, '0')}`;
export const megabytes = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(bytes < 10 * 1024 * 1024 ? 1 : 0)} MB`;

/** The same limits the server applies (GET /api/limits), in the order a person can act on them. */
export function checkSource({ bytes, duration, start, end }: SourceFacts, limits: Limits): SourceProblem | null {
  if (bytes === 0) return { code: ErrorCode.EMPTY_FILE, message: 'The file is empty (0 bytes). Choose a recording with sound in it.' };
  if (bytes > limits.maxUploadBytes) {
    return {
      code: ErrorCode.FILE_TOO_LARGE,
      message: `The file is ${megabytes(bytes)}; the limit is ${megabytes(limits.maxUploadBytes)}. Choose a shorter file or a compressed one (mp3, ogg, m4a).`,
    };
  }
  if (!isSectionOrdered(start, end)) {
    return { code: 'INVALID_SECTION', message: 'The section’s start must be before its end.' };
  }
  if (end !== undefined && isSectionTooShort(start, end)) {
    return { code: 'INVALID_SECTION', message: `The section must be at least ${MIN_SECTION_SECONDS} s long.` };
  }
  if (duration === null) return null;
  if (start !== undefined && start >= duration) {
    return { code: 'INVALID_SECTION', message: `The section starts after the end of the audio (${minutes(duration)}).` };
  }
  const length = Math.min(end ?? duration, duration) - (start ?? 0);
  if (length > limits.maxDurationSeconds) {
    const whole = start === undefined && end === undefined;
    return {
      code: ErrorCode.TOO_LONG,
      message: `${whole ? 'The audio is' : 'The section is'} ${minutes(length)} long; up to ${minutes(limits.maxDurationSeconds)} can be enriched at once. Pick a section of that length, or choose a shorter file.`,
    };
  }
  return null;
}

/**
 * The audio's length as the browser's decoder sees it, read from the file's header without playing it.
 * Null when the browser cannot tell (a recording still being written reports Infinity) or takes too long.
 */
export function probeDuration(blob: Blob, timeoutMs = 5000): Promise<number | null> {
  return new Promise((resolve) => {
    const url = URL.createObjectURL(blob);
    const audio = document.createElement('audio');
    const finish = (seconds: number | null) => {
      clearTimeout(timer);
      audio.removeAttribute('src');
      URL.revokeObjectURL(url);
      resolve(seconds !== null && Number.isFinite(seconds) && seconds > 0 ? seconds : null);
    };
    const timer = setTimeout(() => finish(null), timeoutMs);
    audio.preload = 'metadata';
    audio.addEventListener('loadedmetadata', () => finish(audio.duration), { once: true });
    audio.addEventListener('error', () => finish(null), { once: true });
    audio.src = url;
  });
}
