import path from 'node:path';
import type { CompressedFormat } from '../../../../contract/index.js';

/**
 * What ffmpeg may do, and how it is asked: the containers an upload may be read as, and, per output format,
 * the encoder and the muxer. Every command line the server runs is built here, as plain data.
 */

/**
 * The containers an upload may be opened as. Playlists and descriptions (hls and m3u, concat/ffconcat, dash,
 * sdp/rtp, image sequences, …) name other files or network addresses, which ffmpeg would open on the
 * uploader's behalf: a 120-byte playlist could fetch any file the server can read. With this list ffmpeg
 * refuses any other container as soon as it has recognised it, before it opens anything the upload names.
 * Every container listed holds its own audio (mov's references to other files stay off, ffmpeg's default):
 * mov also covers m4a and 3gp, matroska mka and webm, asf wma; ac3, eac3 and amr are bare streams of frames.
 */
export const AUDIO_DEMUXERS = ['wav', 'w64', 'mp3', 'flac', 'ogg', 'mov', 'matroska', 'aac', 'aiff', 'caf', 'au', 'wv', 'asf', 'ac3', 'eac3', 'amr'] as const;

/** The containers a refusal most often meets, in the words a user knows them by. */
const REFUSED_CONTAINERS: Record<string, string> = {
  hls: 'an HLS (m3u8) playlist',
  applehttp: 'an HLS (m3u8) playlist',
  concat: 'an ffconcat script',
  dash: 'a DASH manifest',
  sdp: 'an SDP stream description',
  rtp: 'an RTP stream description',
};

/**
 * What a refused file was recognised as, for the message that refuses it: "an HLS (m3u8) playlist", or
 * ffmpeg's own name for a container that is not in the list above.
 */
export function describeContainer(demuxer: string | null): string {
  if (!demuxer) return 'in a container that is not accepted';
  const names = demuxer.split(',');
  const known = names.map((name) => REFUSED_CONTAINERS[name]).find(Boolean);
  return known ?? `of the kind ffmpeg calls "${names[0]}"`;
}

/**
 * Input options for every ffmpeg that reads a file: containers from {@link AUDIO_DEMUXERS} only (pinned to
 * `demuxer` once the probe has named it) and the local file protocol only, so no nested open can reach the
 * network or a device.
 */
export function restrictedInput(demuxer?: string): string[] {
  return [...(demuxer ? ['-f', demuxer] : []), '-format_whitelist', AUDIO_DEMUXERS.join(','), '-protocol_whitelist', 'file'];
}

/** `file:` stops ffmpeg reading a path that has a colon in it as a protocol name. */
export function fileUrl(file: string): string {
  return `file:${path.resolve(file)}`;
}

/**
 * How each compressed format is written. The muxer is named apart from the API's format id: a format whose
 * container ffmpeg calls something else (m4a is `ipod`) gets its own entry here, and a format without one does
 * not compile.
 */
export const OUTPUT_POLICY: Record<CompressedFormat, { codec: readonly string[]; muxer: string }> = {
  mp3: { codec: ['-c:a', 'libmp3lame', '-q:a', '2'], muxer: 'mp3' },
  flac: { codec: ['-c:a', 'flac'], muxer: 'flac' },
  ogg: { codec: ['-c:a', 'libvorbis', '-q:a', '5'], muxer: 'ogg' },
};

export interface PcmLayout {
  sampleRate: number;
  channels: number;
}

/** `ffmpeg -i` on the upload, restricted as for decoding: its report on stderr is the probe. */
export function probeArgs(input: string): string[] {
  return ['-hide_banner', '-nostdin', ...restrictedInput(), '-i', fileUrl(input)];
}

export interface DecodeArgs {
  /** The container the probe found; without it ffmpeg detects it again, still within the whitelist. */
  demuxer?: string;
  startSeconds?: number;
  /** The input has this many channels and no named layout, which ffmpeg will not mix to stereo by itself. */
  mixChannels?: number;
  sampleRate: number;
  channels: 1 | 2;
}

/** The first audio stream as interleaved float32 into `output` (a `unix:` socket), at the rate and channels asked for. */
export function decodeArgs(input: string, output: string, options: DecodeArgs): string[] {
  return [
    '-hide_banner', '-nostdin', '-loglevel', 'error',
    ...restrictedInput(options.demuxer),
    ...(options.startSeconds ? ['-ss', ffmpegSeconds(options.startSeconds)] : []),
    '-i', fileUrl(input),
    '-ac', String(options.channels), '-ar', String(options.sampleRate), '-acodec', 'pcm_f32le',
    ...(options.mixChannels && options.mixChannels > 2 ? ['-filter:a', stereoMix(options.mixChannels)] : []),
    '-vn', '-f', 'f32le', '-map', '0:a:0', output,
  ];
}

/** The command line of an encode. The input is our own WAV master, still read as WAV only. */
export function encodeArgs(wavPath: string, format: CompressedFormat, output: string): string[] {
  return ['-hide_banner', '-nostdin', '-loglevel', 'error', '-y', ...restrictedInput('wav'), '-i', fileUrl(wavPath), ...encoderOutput(format, output)];
}

/**
 * The command line of an encode fed with 16-bit samples as they are enriched: raw PCM of a stated format, read
 * from a local socket that the server feeds (`unix:`, the one protocol allowed). Raw PCM has no tags, so the
 * master's are given as `-metadata`: the same keys ffmpeg reads from the master's INFO chunk when it encodes the
 * master, so both give the same file.
 */
export function streamEncodeArgs(layout: PcmLayout, format: CompressedFormat, input: string, output: string, tags?: Record<string, string>): string[] {
  return [
    '-hide_banner', '-nostdin', '-loglevel', 'error', '-y',
    '-f', 's16le', '-ar', String(layout.sampleRate), '-ac', String(layout.channels), '-protocol_whitelist', 'unix', '-i', input,
    ...Object.entries(tags ?? {}).flatMap(([key, value]) => ['-metadata', `${key}=${value}`]),
    ...encoderOutput(format, output),
  ];
}

function encoderOutput(format: CompressedFormat, output: string): string[] {
  const { codec, muxer } = OUTPUT_POLICY[format];
  // One thread per encode: the encode pool decides how many cores transcodes get, not ffmpeg.
  return ['-threads', '1', ...codec, '-f', muxer, fileUrl(output)];
}

/**
 * Seconds as ffmpeg reads them: plain decimals. JavaScript prints 1e-7 and 1e21 in exponent form, which
 * ffmpeg refuses as an invalid time.
 */
export function ffmpegSeconds(seconds: number): string {
  return seconds.toFixed(6);
}

/** A pan filter that mixes channels without a named layout to stereo: even ones left, odd ones right. */
export function stereoMix(channels: number): string {
  const side = (first: number) => {
    const members = Array.from({ length: channels }, (_, c) => c).filter((c) => c % 2 === first);
    return members.map((c) => `${(1 / members.length).toFixed(6)}*c${c}`).join('+');
  };
  return `pan=stereo|c0=${side(0)}|c1=${side(1)}`;
}
