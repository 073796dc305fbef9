import type { ProcessLauncher } from '../process-launcher.js';
import { AUDIO_DEMUXERS, probeArgs } from './policy.js';
import { runFfmpeg } from './run.js';

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
export async function probeAudio(launcher: ProcessLauncher, binary: string, input: string, timeoutMs: number): Promise<ProbeResult> {
  const run = runFfmpeg(launcher, binary, probeArgs(input), { timeout: { ms: timeoutMs, message: 'ffmpeg took too long to read the file' } });
  return parseProbe((await run.exited).stderr);
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
