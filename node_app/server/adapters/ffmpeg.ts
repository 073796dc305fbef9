import { accessSync, constants, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import ffmpeg from 'fluent-ffmpeg';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { sanitizeInPlace } from '../../engine/pcm.js';
import type { CompressedFormat } from '../../contract/index.js';
import type { Launched, ProcessLauncher } from './process-launcher.js';
import { interleave16 } from './wav.js';

const require = createRequire(import.meta.url);

export interface FfmpegBinary {
  path: string;
  source: 'FFMPEG_PATH' | 'system' | 'bundled';
  /** Set when a system ffmpeg was asked for but none was found, so the fallback is logged rather than silent. */
  fallbackReason?: string;
}

export interface ResolveFfmpegOptions {
  /** Prefer an `ffmpeg` on PATH, e.g. the one Heroku's apt buildpack installs from the Aptfile. */
  preferSystem?: boolean;
  /** The PATH to search; the process's own by default. */
  searchPath?: string;
}

/**
 * FFMPEG_PATH wins; then, where configured, the system's ffmpeg — a distribution build gets security fixes,
 * which matters on a server that decodes strangers' files; then the static build that @ffmpeg-installer
 * ships, which needs no setup and is the default everywhere else.
 */
export function resolveFfmpeg(configured?: string, options: ResolveFfmpegOptions = {}): FfmpegBinary {
  if (configured) return { path: configured, source: 'FFMPEG_PATH' };
  let fallbackReason: string | undefined;
  if (options.preferSystem) {
    const system = findExecutable('ffmpeg', options.searchPath ?? process.env.PATH ?? '');
    if (system) return { path: system, source: 'system' };
    fallbackReason = 'a system ffmpeg was configured but none is on PATH';
  }
  const installer = require('@ffmpeg-installer/ffmpeg') as { path: string };
  return { path: installer.path, source: 'bundled', ...(fallbackReason ? { fallbackReason } : {}) };
}

/** The first executable file called `name` in a PATH-style list of folders, like `command -v`. */
export function findExecutable(name: string, searchPath: string): string | null {
  for (const dir of searchPath.split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    try {
      if (statSync(candidate).isFile()) {
        accessSync(candidate, constants.X_OK);
        return candidate;
      }
    } catch {
      // Not there or not executable: keep looking, as a shell would.
    }
  }
  return null;
}

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

export type ProbeResult =
  | { kind: 'audio'; demuxer: string; sampleRate: number | null; channelLayout: string; durationSeconds: number | null }
  /** ffmpeg read the file and found no audio stream in it (text, an image, an archive, a damaged file). */
  | { kind: 'not-audio' }
  /** A container outside {@link AUDIO_DEMUXERS}: ffmpeg stopped as soon as it recognised it (named when ffmpeg says). */
  | { kind: 'refused'; demuxer: string | null };

/**
 * Reads the container and the first audio stream's properties from `ffmpeg -i` (the bundled build has no
 * ffprobe), with the input restricted as for decoding. `ffmpeg -i` without an output always exits with 1, so
 * only a signal, a timeout or a binary that cannot start count as ffmpeg failing. The timeout is wall time:
 * reading a local file's header takes milliseconds, and a probe that waits (a live stream, a FIFO) must not
 * hold a worker.
 */
export function probeAudio(binary: string, input: string, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve, reject) => {
    const args = ['-hide_banner', '-nostdin', ...restrictedInput(), '-i', fileUrl(input)];
    execFile(binary, args, { timeout: timeoutMs, killSignal: 'SIGKILL' }, (error, _stdout, stderr) => {
      const failure = error as (Error & { killed?: boolean; signal?: NodeJS.Signals | null; code?: number | string }) | null;
      if (failure?.killed) return reject(new FfmpegError('ffmpeg took too long to read the file', 'timeout'));
      if (failure?.signal) return reject(new FfmpegError(`ffmpeg was killed with ${failure.signal}`, signalFailure(failure.signal)));
      if (typeof failure?.code === 'string') return reject(new FfmpegError(`ffmpeg could not start: ${failure.code}`, 'unavailable'));
      resolve(parseProbe(String(stderr)));
    });
  });
}

export function parseProbe(stderr: string): ProbeResult {
  // ffmpeg prefixes the refusal with the detected demuxer: "[hls,applehttp @ 0x…] Format not on whitelist".
  const refusal = /^(?:\[([\w,]+) @ [^\]]*\] )?Format not on whitelist/m.exec(stderr);
  if (refusal) return { kind: 'refused', demuxer: refusal[1] ?? null };
  const input = /^Input #0, (.+?), from '/m.exec(stderr);
  const audio = /Stream #\d+:\d+.*?: Audio: ([^\n]*)/.exec(stderr);
  if (!input || !audio) return { kind: 'not-audio' };
  // ffmpeg names a demuxer by all its aliases ("mov,mp4,m4a,3gp,3g2,mj2"); `-f` takes any one of them.
  const names = input[1].split(',');
  const demuxer = AUDIO_DEMUXERS.find((name) => names.includes(name));
  if (!demuxer) return { kind: 'refused', demuxer: input[1] };
  const fields = audio[1].split(',').map((f) => f.trim());
  const rate = fields.map((f) => /^(\d+) Hz$/.exec(f)).find(Boolean);
  const layout = fields.find((f) => /^(mono|stereo|\d+(\.\d+)?(\(\w+\))?|\d+ channels|quad.*|\w+\(.*\))$/.test(f)) ?? 'unknown';
  const duration = /Duration: (\d+):(\d+):(\d+(?:\.\d+)?)/.exec(stderr);
  return {
    kind: 'audio',
    demuxer,
    sampleRate: rate ? Number(rate[1]) : null,
    channelLayout: layout,
    durationSeconds: duration ? Number(duration[1]) * 3600 + Number(duration[2]) * 60 + Number(duration[3]) : null,
  };
}

export interface FfmpegDecodeOptions {
  sampleRate: number;
  channels: 1 | 2;
  /** The container the probe found; without it ffmpeg detects it again, still within the whitelist. */
  demuxer?: string;
  startSeconds?: number;
  /** The input has this many channels and no named layout, which ffmpeg will not mix to stereo by itself. */
  mixChannels?: number;
  /**
   * Decoding stops after this many seconds of samples, so hours of silence never get decoded. Samples are
   * counted, not timestamps: in a file whose timestamps run fast (MP3s of different rates joined end to end)
   * ffmpeg's own `-t` stops early and hides how long the audio really is.
   */
  maxSeconds: number;
  /** Time spent waiting for ffmpeg, in all. */
  timeoutMs: number;
  /** Wall time ffmpeg may go without sending a byte while it is waited for: a decoder that waits on a stream
   * uses no CPU and would otherwise hold its worker for the whole `timeoutMs`. */
  stallTimeoutMs?: number;
  signal?: AbortSignal;
}

/**
 * failed: ffmpeg refused the input; crashed: it died of a fault (SIGSEGV, SIGABRT, …) on this input;
 * killed: something outside killed it (SIGKILL from the OOM killer); unavailable: it could not start;
 * disk-full: it could not write its output.
 */
export type FfmpegFailure = 'failed' | 'crashed' | 'killed' | 'unavailable' | 'disk-full' | 'timeout';

export class FfmpegError extends Error {
  constructor(
    message: string,
    readonly reason: FfmpegFailure,
  ) {
    super(message);
    this.name = 'FfmpegError';
  }
}

/** A fault signal comes from inside ffmpeg, reading this input; SIGKILL and SIGTERM come from outside it. */
function signalFailure(signal: string): 'crashed' | 'killed' {
  return signal === 'SIGKILL' || signal === 'SIGTERM' ? 'killed' : 'crashed';
}

/** fluent-ffmpeg reports a death by signal or a failed start only in the message. */
function fluentFailure(message: string): FfmpegFailure {
  const signal = /killed with signal (\w+)/.exec(message);
  if (signal) return signalFailure(signal[1]);
  if (/spawn|ENOENT|EACCES/.test(message)) return 'unavailable';
  return 'failed';
}

/**
 * Decodes to planar float32 slices as ffmpeg's stdout delivers them. Reading is pulled by the consumer, so a
 * slow consumer pauses the pipe and ffmpeg with it rather than piling the song up in memory. Stopping the
 * iteration early (an error downstream, a cancelled job) kills ffmpeg.
 */
export async function* streamWithFfmpeg(binary: string, input: string, options: FfmpegDecodeOptions): AsyncGenerator<Float32Array[]> {
  const command = ffmpeg(fileUrl(input))
    .setFfmpegPath(binary)
    .inputOptions([...restrictedInput(options.demuxer), ...(options.startSeconds ? ['-ss', ffmpegSeconds(options.startSeconds)] : [])])
    .audioFilters(options.mixChannels && options.mixChannels > 2 ? [stereoMix(options.mixChannels)] : [])
    .noVideo()
    .audioChannels(options.channels)
    .audioFrequency(options.sampleRate)
    .audioCodec('pcm_f32le')
    .format('f32le')
    .outputOptions(['-map', '0:a:0']);

  // An FfmpegError, or the signal's AbortError when the caller cancels.
  let failure: Error | null = null;
  let exited = false;
  // stdout reached its end: everything ffmpeg decoded has been read
  let drained = false;
  let onExit: () => void = () => undefined;
  const exit = new Promise<void>((resolve) => {
    onExit = resolve;
  });
  const stream = command.pipe();
  const fail = (error: Error): void => {
    failure ??= error;
    stream.destroy(failure);
  };
  const onAbort = () => fail(options.signal?.reason);
  // The time limit counts only the time spent waiting for ffmpeg: while the consumer holds a slice (the model
  // is working on the song) ffmpeg is paused by the pipe, and that must not count as ffmpeg being slow.
  let remainingMs = options.timeoutMs;
  let waitingSince = 0;
  let timer: NodeJS.Timeout | undefined;
  const stallMs = Math.min(options.stallTimeoutMs ?? options.timeoutMs, options.timeoutMs);
  let stallTimer: NodeJS.Timeout | undefined;
  const expectProgress = (): void => {
    clearTimeout(stallTimer);
    stallTimer = setTimeout(() => fail(new FfmpegError(`ffmpeg sent nothing for ${Math.round(stallMs)} ms`, 'timeout')), stallMs);
  };
  const waitForFfmpeg = (): void => {
    waitingSince = performance.now();
    timer = setTimeout(() => fail(new FfmpegError('ffmpeg took too long to decode the file', 'timeout')), Math.max(0, remainingMs));
    expectProgress();
  };
  const holdClock = (): void => {
    clearTimeout(timer);
    clearTimeout(stallTimer);
    remainingMs -= performance.now() - waitingSince;
  };
  waitForFfmpeg();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  command.on('error', (error: Error) => {
    exited = true;
    // fluent-ffmpeg gives up on a process whose exit comes more than 20 ms after its stdout closed (a busy
    // machine) and reports "Output stream closed": the output was complete by then, so that is the end.
    if (!(drained && error.message.includes('Output stream closed'))) fail(new FfmpegError(error.message, fluentFailure(error.message)));
    onExit();
  });
  command.on('end', () => {
    exited = true;
    onExit();
  });

  const deinterleave = new Deinterleaver(options.channels);
  const maxFrames = Math.round(options.maxSeconds * options.sampleRate);
  let emitted = 0;
  try {
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        if (failure) break;
        expectProgress();
        const planar = deinterleave.write(chunk);
        if (planar[0].length === 0) continue;
        const room = maxFrames - emitted;
        const slice = planar[0].length > room ? planar.map((channel) => channel.subarray(0, room)) : planar;
        emitted += slice[0].length;
        holdClock();
        yield slice;
        waitForFfmpeg();
        // Enough: the finally below stops ffmpeg, which would otherwise go on decoding for nobody.
        if (emitted >= maxFrames) return;
      }
    } catch (error) {
      throw failure ?? new FfmpegError(error instanceof Error ? error.message : String(error), 'failed');
    }
    drained = failure === null;
    // Both must happen: stdout can end cleanly a moment before ffmpeg's exit reports that it was killed.
    await exit;
    if (failure) throw failure;
  } finally {
    clearTimeout(timer);
    clearTimeout(stallTimer);
    options.signal?.removeEventListener('abort', onAbort);
    if (!exited) command.kill('SIGKILL');
  }
}

const ENCODERS: Record<CompressedFormat, string[]> = {
  mp3: ['-c:a', 'libmp3lame', '-q:a', '2'],
  flac: ['-c:a', 'flac'],
  ogg: ['-c:a', 'libvorbis', '-q:a', '5'],
};


export interface EncodeOptions {
  timeoutMs: number;
  /** Aborting kills the encoder; the promise settles once it has exited. */
  signal?: AbortSignal;
  /** Added to the encoder's nice value: a download may wait a little, the HTTP loop and the jobs may not. */
  niceness?: number;
}

/** The command line of an encode, as plain data. The input is our own WAV master, still read as WAV only. */
export function encodeArgs(wavPath: string, format: CompressedFormat, output: string): string[] {
  return ['-hide_banner', '-nostdin', '-loglevel', 'error', '-y', ...restrictedInput('wav'), '-i', fileUrl(wavPath), ...encoderOutput(format, output)];
}

/**
 * The command line of an encode fed with 16-bit samples as they are enriched: raw PCM of a stated format, read
 * from a local socket that the server feeds (the unix protocol only).
 */
export function streamEncodeArgs(layout: PcmLayout, format: CompressedFormat, inputSocket: string, output: string): string[] {
  return [
    '-hide_banner', '-nostdin', '-loglevel', 'error', '-y',
    '-f', 's16le', '-ar', String(layout.sampleRate), '-ac', String(layout.channels), '-protocol_whitelist', 'unix', '-i', `unix:${inputSocket}`,
    ...encoderOutput(format, output),
  ];
}

function encoderOutput(format: CompressedFormat, output: string): string[] {
  // One thread per encode: the encode pool decides how many cores transcodes get, not ffmpeg.
  return ['-threads', '1', ...ENCODERS[format], '-f', format, fileUrl(output)];
}

export interface PcmLayout {
  sampleRate: number;
  channels: number;
}

/**
 * Encodes a WAV master into a compressed format, started through `launcher`. Settles only when ffmpeg has
 * exited, whether it finished, failed, timed out or was cancelled, so a caller that awaits it never leaves an
 * encoder running.
 */
export async function encodeWithFfmpeg(
  launcher: ProcessLauncher,
  binary: string,
  wavPath: string,
  format: CompressedFormat,
  output: string,
  options: EncodeOptions,
): Promise<void> {
  options.signal?.throwIfAborted();
  await superviseEncode(launcher.run(binary, encodeArgs(wavPath, format, output), { niceness: options.niceness }), options);
}

/** An encoder that takes planar slices as they come; the file is complete once `close` has resolved. */
export interface PcmEncoder {
  write(channels: Float32Array[]): Promise<void>;
  /** Ends the input and waits for ffmpeg to finish the file; rejects with the encode's failure. */
  close(): Promise<void>;
  /** Kills the encoder and waits for it to exit, after a failure elsewhere; the caller deletes the file. */
  abort(): Promise<void>;
}

/** Frames converted and handed to the pipe at a time. */
const STREAM_CHUNK_FRAMES = 16384;

/**
 * Starts an encoder fed through a local socket, through `launcher` like every encode (same niceness, one
 * thread, timeout and cancellation); writes wait while the socket is full, so ffmpeg's pace holds back the writer.
 */
export function streamEncodeWithFfmpeg(
  launcher: ProcessLauncher,
  binary: string,
  layout: PcmLayout,
  format: CompressedFormat,
  output: string,
  options: EncodeOptions,
): PcmEncoder {
  options.signal?.throwIfAborted();
  const input = launcher.inputSocket();
  const encoder = launcher.run(binary, streamEncodeArgs(layout, format, input.path, output), { niceness: options.niceness });
  const finished = superviseEncode(encoder, options);
  // An encoder that ended without connecting is not waited for.
  void finished.finally(input.close).catch(() => undefined);
  // Whoever writes or closes sees the failure; until then it must not count as unhandled.
  finished.catch(() => undefined);
  const early = finished.then(() => {
    throw new FfmpegError('ffmpeg stopped before the end of its input', 'failed');
  });
  early.catch(() => undefined);
  const pipe = input.connected.then(
    (socket) => {
      // A write to an encoder that has died fails with EPIPE; `finished` says why it died.
      socket.on('error', () => undefined);
      return socket;
    },
    // No connection means no encoder: its exit says why.
    () => early,
  );
  pipe.catch(() => undefined);
  const scratch = new Int16Array(STREAM_CHUNK_FRAMES * layout.channels);
  return {
    async write(channels) {
      const socket = await pipe;
      const total = channels[0]?.length ?? 0;
      for (let start = 0; start < total; start += STREAM_CHUNK_FRAMES) {
        // The socket keeps what it cannot send at once, so each piece is a copy of the scratch.
        const bytes = Buffer.from(interleave16(channels, start, Math.min(STREAM_CHUNK_FRAMES, total - start), scratch));
        // A pipe that breaks waits for ffmpeg's exit, which says why.
        if (!socket.write(bytes)) await Promise.race([once(socket, 'drain'), early]).catch(() => early);
      }
    },
    async close() {
      (await pipe.catch(() => null))?.end();
      await finished;
    },
    async abort() {
      encoder.kill();
      await finished.catch(() => undefined);
    },
  };
}

async function superviseEncode(encoder: Launched, options: EncodeOptions): Promise<void> {
  let failure: Error | null = null;
  const stop = (error: Error): void => {
    failure ??= error;
    encoder.kill();
  };
  const timer = setTimeout(() => stop(new FfmpegError('ffmpeg took too long to encode', 'timeout')), options.timeoutMs);
  const onAbort = (): void => stop(options.signal?.reason);
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const { code, signal, stderr } = await encoder.exited.catch((error: unknown) => {
      throw new FfmpegError(`ffmpeg could not start: ${error instanceof Error ? error.message : String(error)}`, 'unavailable');
    });
    if (failure) throw failure;
    if (signal) throw new FfmpegError(`ffmpeg was killed with ${signal}`, signalFailure(signal));
    const lastLine = stderr.trim().split('\n').pop() ?? '';
    // ffmpeg (4.1 and 5.1 alike) exits 0 when writing the end of its output fails: only stderr tells.
    if (/No space left on device|Disk quota exceeded/i.test(stderr)) throw new FfmpegError(`ffmpeg could not write: ${lastLine}`, 'disk-full');
    if (code !== 0) throw new FfmpegError(`ffmpeg exited with code ${code}: ${lastLine}`, 'failed');
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
  }
}

/** The first line of `ffmpeg -version` ("ffmpeg version 5.1.9-0+deb12u1 …"), run through `launcher`. */
export async function ffmpegVersion(launcher: ProcessLauncher, binary: string, timeoutMs: number): Promise<string> {
  const run = launcher.run(binary, ['-hide_banner', '-nostdin', '-loglevel', 'error', '-version'], { captureStdout: true });
  const timer = setTimeout(() => run.kill(), timeoutMs);
  try {
    const { code, signal, stdout } = await run.exited;
    if (code !== 0) throw new Error(signal ? `killed with ${signal}` : `exited with code ${code}`);
    return stdout.split('\n')[0].trim();
  } finally {
    clearTimeout(timer);
  }
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

/** Turns ffmpeg's interleaved little-endian float32 byte stream into planar slices as it arrives. */
class Deinterleaver {
  private carry = Buffer.alloc(0);

  constructor(private readonly channelCount: number) {}

  write(chunk: Buffer): Float32Array[] {
    const bytes = this.carry.length > 0 ? Buffer.concat([this.carry, chunk]) : chunk;
    const frameBytes = 4 * this.channelCount;
    const whole = Math.floor(bytes.length / frameBytes);
    // A float view reads the samples without a call per sample (readFloatLE was most of the decode time);
    // it needs 4-byte alignment, which a pipe chunk usually has and a copy provides when it does not.
    // f32le matches the byte order of every machine this runs on (x86-64, arm64).
    const aligned = bytes.byteOffset % 4 === 0 ? bytes : Buffer.from(bytes.subarray(0, whole * frameBytes));
    const floats = new Float32Array(aligned.buffer, aligned.byteOffset, whole * this.channelCount);
    const planar = Array.from({ length: this.channelCount }, () => new Float32Array(whole));
    for (let c = 0; c < this.channelCount; c++) {
      const channel = planar[c];
      for (let f = 0, at = c; f < whole; f++, at += this.channelCount) {
        channel[f] = floats[at];
      }
      sanitizeInPlace(channel);
    }
    this.carry = Buffer.from(bytes.subarray(whole * frameBytes));
    return planar;
  }
}
