import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Debian's ffmpeg: its `ebur128` filter is the independent meter the loudness tests check the server against. */
export const SYSTEM_FFMPEG = '/usr/bin/ffmpeg';

export interface Ebur128Reading {
  /** Integrated loudness, LUFS. */
  integrated: number;
  /** True peak over all channels, dBTP. */
  truePeak: number;
}

/** ffmpeg's own measurement of a file (EBU R128: integrated loudness, and true peak by oversampling). */
export async function ebur128(file: string): Promise<Ebur128Reading> {
  const { stderr } = await run(SYSTEM_FFMPEG, ['-hide_banner', '-nostats', '-i', file, '-af', 'ebur128=peak=true', '-f', 'null', '-']);
  const summary = stderr.slice(stderr.lastIndexOf('Summary:'));
  const integrated = /I:\s+(-?[\d.]+|-inf) LUFS/.exec(summary)?.[1];
  const peak = /True peak:\s+Peak:\s+(-?[\d.]+|-inf) dBFS/.exec(summary)?.[1];
  if (integrated === undefined || peak === undefined) throw new Error(`no ebur128 summary in ffmpeg's output:\n${summary}`);
  const number = (text: string) => (text === '-inf' ? -Infinity : Number(text));
  return { integrated: number(integrated), truePeak: number(peak) };
}
