import { execFile } from 'node:child_process';
import { rename, rm } from 'node:fs/promises';
import { promisify } from 'node:util';
import { fileUrl } from '../media/ffmpeg/policy.js';

/** Reads the models' recordings as 16-bit mono samples at `rate`. */
export interface BankReader {
  /** One recording, in memory. */
  read(file: string, rate: number): Promise<Int16Array>;
  /** Many recordings, each into the raw file `to` (written whole, then renamed), by one decoder. */
  readAllInto(files: ReadonlyArray<{ file: string; to: string }>, rate: number): Promise<void>;
}

/** The largest bank file read: a 20-s clip is 1.8 MB of 16-bit mono; a minute's margin over any we ship. */
const MAX_PCM_BYTES = 16 << 20;

const run = promisify(execFile);

/**
 * Decodes the models' own FLAC recordings to 16-bit mono at `rate` with ffmpeg. The files are stored mono at
 * the manifest's rate, so nothing is resampled and every ffmpeg gives the same samples (FLAC is lossless):
 * a bank reads the same on every machine, as the model was trained on it.
 *
 * All of them at once go through one ffmpeg with an input and an output per file: starting ffmpeg was most of a
 * file's cost (83 files: 1.56 s one by one with the bundled static build, 0.62 s in one process).
 */
export function bankFileReader(ffmpegPath: string, timeoutMs = 30_000): BankReader {
  const pcm = (rate: number) => ['-ac', '1', '-ar', String(rate), '-f', 's16le'];
  return {
    async read(file, rate) {
      const args = ['-hide_banner', '-nostdin', '-v', 'error', '-i', fileUrl(file), '-map', '0:a:0', ...pcm(rate), '-'];
      const { stdout } = await run(ffmpegPath, args, { encoding: 'buffer', maxBuffer: MAX_PCM_BYTES, timeout: timeoutMs }).catch((error: { stderr?: Buffer; message: string }) => {
        throw new Error(`could not read the recording ${file}: ${String(error.stderr ?? '').trim() || error.message}`);
      });
      const samples = new Int16Array(stdout.byteLength >> 1);
      new Uint8Array(samples.buffer).set(stdout.subarray(0, samples.byteLength));
      return samples;
    },
    async readAllInto(files, rate) {
      if (files.length === 0) return;
      const inputs = files.flatMap(({ file }) => ['-i', fileUrl(file)]);
      const outputs = files.flatMap(({ to }, index) => ['-map', `${index}:a:0`, ...pcm(rate), fileUrl(`${to}.part`)]);
      await run(ffmpegPath, ['-hide_banner', '-nostdin', '-v', 'error', '-y', ...inputs, ...outputs], { timeout: timeoutMs * 2 }).catch(
        async (error: { stderr?: string; message: string }) => {
          // A decoder killed part-way (the timeout) leaves no half-written file behind.
          await Promise.all(files.map(({ to }) => rm(`${to}.part`, { force: true })));
          throw new Error(`could not read the recordings: ${String(error.stderr ?? '').trim() || error.message}`);
        },
      );
      await Promise.all(files.map(({ to }) => rename(`${to}.part`, to)));
    },
  };
}
