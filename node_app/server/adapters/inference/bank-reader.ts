import { execFile } from 'node:child_process';
import { fileUrl } from '../media/ffmpeg/policy.js';

/** Reads a recording as 16-bit mono samples at `rate`. */
export type PcmReader = (file: string, rate: number) => Promise<Int16Array>;

/** The largest bank file read: a 20-s clip is 1.8 MB of 16-bit mono; a minute's margin over any we ship. */
const MAX_PCM_BYTES = 16 << 20;

/**
 * Decodes the models' own FLAC recordings to 16-bit mono at `rate` with ffmpeg. The files are stored mono at
 * the manifest's rate, so nothing is resampled and every ffmpeg gives the same samples (FLAC is lossless):
 * a bank reads the same on every machine, as the model was trained on it.
 */
export function bankFileReader(ffmpegPath: string, timeoutMs = 30_000): PcmReader {
  return (file, rate) =>
    new Promise((resolve, reject) => {
      const args = ['-hide_banner', '-nostdin', '-v', 'error', '-i', fileUrl(file), '-map', '0:a:0', '-ac', '1', '-ar', String(rate), '-f', 's16le', '-'];
      execFile(ffmpegPath, args, { encoding: 'buffer', maxBuffer: MAX_PCM_BYTES, timeout: timeoutMs }, (error, stdout, stderr) => {
        if (error) return reject(new Error(`could not read the recording ${file}: ${String(stderr).trim() || error.message}`));
        const samples = new Int16Array(stdout.byteLength >> 1);
        new Uint8Array(samples.buffer).set(stdout.subarray(0, samples.byteLength));
        resolve(samples);
      });
    });
}
