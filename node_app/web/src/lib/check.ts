import { ErrorCode, isSectionOrdered, isSectionTooShort, MIN_SECTION_SECONDS } from '../../../contract';
import type { Limits } from '../api';
import { formatBytes, formatDuration } from './format';

/** Why a chosen file would be refused by the server, found before a byte is uploaded: the server's code for it. */
export interface SourceProblem {
  code:
    | typeof ErrorCode.BATCH_FILE_COUNT
    | typeof ErrorCode.BATCH_TOO_LARGE
    | typeof ErrorCode.EMPTY_FILE
    | typeof ErrorCode.FILE_TOO_LARGE
    | typeof ErrorCode.TOO_LONG
    | typeof ErrorCode.NOT_AUDIO
    | 'INVALID_SECTION';
  message: string;
}

export interface SourceFacts {
  /** The file's name, whose extension says whether it is already compressed. */
  name: string;
  bytes: number;
  /** Seconds, as the browser's own decoder reports them; null when it cannot tell (then the server judges). */
  duration: number | null;
  /** False when neither this browser can play it nor do its first bytes look like any audio container. */
  audio: boolean;
  start?: number;
  end?: number;
}

/** Files already compressed: advising "a compressed one" for them would send a person in a circle. */
const COMPRESSED = /\.(mp3|ogg|oga|opus|m4a|aac|mp4|webm|wma|amr|3gp|ac3|eac3|mka)$/i;

/** The same limits the server applies (GET /api/limits), in the order a person can act on them. */
export function checkSource({ name, bytes, duration, audio, start, end }: SourceFacts, limits: Limits): SourceProblem | null {
  if (bytes === 0) return { code: ErrorCode.EMPTY_FILE, message: 'The file is empty (0 bytes). Choose a recording with sound in it.' };
  if (!audio) {
    return {
      code: ErrorCode.NOT_AUDIO,
      message: `${name} is not audio this page can recognise: it does not start like an mp3, wav, flac, ogg, m4a, webm or any other sound file. Choose a recording.`,
    };
  }
  if (bytes > limits.maxUploadBytes) {
    const advice = COMPRESSED.test(name)
      ? 'Choose a shorter file, or cut the part you want with an audio editor.'
      : 'Choose a shorter file, or save this one as mp3, ogg or m4a, a tenth of the size.';
    return {
      code: ErrorCode.FILE_TOO_LARGE,
      message: `The file is ${formatBytes(bytes)}; the limit is ${formatBytes(limits.maxUploadBytes)}. ${advice}`,
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
    return { code: 'INVALID_SECTION', message: `The section starts after the end of the audio (${formatDuration(duration)}).` };
  }
  const length = Math.min(end ?? duration, duration) - (start ?? 0);
  if (length > limits.maxDurationSeconds) {
    const whole = start === undefined && end === undefined;
    return {
      code: ErrorCode.TOO_LONG,
      message: `${whole ? 'The audio is' : 'The section is'} ${formatDuration(length)} long; up to ${formatDuration(limits.maxDurationSeconds)} can be enriched at once. Pick a section of that length, or choose a shorter file.`,
    };
  }
  return null;
}

/**
 * An album's files against the server's limits (GET /api/limits), before any is uploaded: how many, each one as a
 * single upload is held (named, so the person knows which), and all of them together.
 */
export function checkAlbum(files: ReadonlyArray<{ name: string; bytes: number }>, limits: Limits): SourceProblem | null {
  if (files.length > limits.maxBatchFiles) {
    return { code: ErrorCode.BATCH_FILE_COUNT, message: `${files.length} files are chosen; an album takes up to ${limits.maxBatchFiles}. Choose fewer, or enrich the rest as another album.` };
  }
  const empty = files.find((file) => file.bytes === 0);
  if (empty) return { code: ErrorCode.EMPTY_FILE, message: `${empty.name} is empty (0 bytes). Leave it out of the album.` };
  const large = files.find((file) => file.bytes > limits.maxUploadBytes);
  if (large) {
    return { code: ErrorCode.FILE_TOO_LARGE, message: `${large.name} is ${formatBytes(large.bytes)}; each file may be up to ${formatBytes(limits.maxUploadBytes)}.` };
  }
  const total = files.reduce((sum, file) => sum + file.bytes, 0);
  if (total > limits.maxBatchBytes) {
    return { code: ErrorCode.BATCH_TOO_LARGE, message: `The files are ${formatBytes(total)} together; an album may be up to ${formatBytes(limits.maxBatchBytes)}. Choose fewer or compressed files.` };
  }
  return null;
}

/** What the browser can tell of a chosen file before it is uploaded. */
export interface AudioProbe {
  /** Seconds, or null when the browser cannot tell (a recording still being written reports Infinity). */
  duration: number | null;
  /** Whether it is audio: this browser plays it, or its first bytes are an audio container's (wma, amr, ac3 …
   * are decoded by the server though few browsers play them). */
  audio: boolean;
}

/** Reads the header only, never the whole file: a two-hour recording is probed as fast as a short one. */
export async function probeAudio(blob: Blob, timeoutMs = 5000): Promise<AudioProbe> {
  // A file that cannot be read here is left to the server to judge.
  const [playable, signature] = await Promise.all([probeDuration(blob, timeoutMs), looksLikeAudio(blob).catch(() => true)]);
  return { duration: playable === 'unplayable' ? null : playable, audio: playable !== 'unplayable' || signature };
}

/**
 * The audio's length as the browser's decoder sees it, read from the file's header without playing it;
 * null when it cannot tell in time, 'unplayable' when the browser refuses the file outright.
 */
function probeDuration(blob: Blob, timeoutMs: number): Promise<number | null | 'unplayable'> {
  return new Promise((resolve) => {
    const url = URL.createObjectURL(blob);
    const audio = document.createElement('audio');
    const finish = (result: number | null | 'unplayable') => {
      clearTimeout(timer);
      audio.removeAttribute('src');
      URL.revokeObjectURL(url);
      resolve(typeof result === 'number' && !(Number.isFinite(result) && result > 0) ? null : result);
    };
    const timer = setTimeout(() => finish(null), timeoutMs);
    audio.preload = 'metadata';
    audio.addEventListener('loadedmetadata', () => finish(audio.duration), { once: true });
    audio.addEventListener('error', () => finish('unplayable'), { once: true });
    audio.src = url;
  });
}

/** The first bytes of every container the server accepts (docs/api.md), as [offset, bytes]. */
const SIGNATURES: ReadonlyArray<readonly [number, readonly number[]]> = [
  [0, [0x49, 0x44, 0x33]], // ID3 tag (mp3)
  [0, [0x52, 0x49, 0x46, 0x46]], // RIFF (wav)
  [0, [0x52, 0x46, 0x36, 0x34]], // RF64 (wav)
  [0, [0x72, 0x69, 0x66, 0x66]], // riff (w64)
  [0, [0x66, 0x4c, 0x61, 0x43]], // fLaC
  [0, [0x4f, 0x67, 0x67, 0x53]], // OggS
  [4, [0x66, 0x74, 0x79, 0x70]], // ftyp (m4a, mp4, 3gp)
  [0, [0x1a, 0x45, 0xdf, 0xa3]], // EBML (webm, mka)
  [0, [0x30, 0x26, 0xb2, 0x75]], // ASF (wma)
  [0, [0x23, 0x21, 0x41, 0x4d, 0x52]], // #!AMR
  [0, [0x0b, 0x77]], // ac3, eac3
  [0, [0x46, 0x4f, 0x52, 0x4d]], // FORM (aiff)
  [0, [0x63, 0x61, 0x66, 0x66]], // caff
  [0, [0x2e, 0x73, 0x6e, 0x64]], // .snd (au)
  [0, [0x77, 0x76, 0x70, 0x6b]], // wvpk (WavPack)
];

/** Whether the file starts like audio: a container signature, or an MPEG audio or ADTS frame header. */
export async function looksLikeAudio(blob: Blob): Promise<boolean> {
  const head = new Uint8Array(await blob.slice(0, 16).arrayBuffer());
  if (SIGNATURES.some(([offset, bytes]) => bytes.every((byte, i) => head[offset + i] === byte))) return true;
  // An mp3 without a tag, or raw AAC: eleven set sync bits.
  return head.length >= 2 && head[0] === 0xff && (head[1] & 0xe0) === 0xe0;
}
