import { open, type FileHandle } from 'node:fs/promises';

const SLICE_FRAMES = 65536;

/**
 * Float32 samples kept on disk between two passes over a song, such as its loudness measured on the first and
 * its gain applied on the second: memory holds a slice, never the song. Interleaved, at full precision (a
 * 16-bit copy would raise its own rounding noise with the gain).
 */
export interface PcmSpool {
  write(planar: readonly Float32Array[]): Promise<void>;
  /** Ends writing; the spool can then be read as many times as needed. */
  finish(): Promise<void>;
  /** The samples as written, in planar slices. */
  read(): AsyncGenerator<Float32Array[]>;
  /** How many frames were written. */
  readonly frames: number;
}

export async function createPcmSpool(path: string, channels: number): Promise<PcmSpool> {
  const file: FileHandle = await open(path, 'w');
  let frames = 0;
  let writing = true;
  const interleaved = new Float32Array(SLICE_FRAMES * channels);
  return {
    get frames() {
      return frames;
    },
    async write(planar) {
      const total = planar[0]?.length ?? 0;
      for (let start = 0; start < total; start += SLICE_FRAMES) {
        const count = Math.min(SLICE_FRAMES, total - start);
        for (let c = 0; c < channels; c++) {
          const source = planar[c];
          for (let i = 0; i < count; i++) interleaved[i * channels + c] = source[start + i];
        }
        await file.write(new Uint8Array(interleaved.buffer, 0, count * channels * 4));
      }
      frames += total;
    },
    async finish() {
      if (!writing) return;
      writing = false;
      await file.close();
    },
    async *read() {
      if (writing) throw new Error('the spool is still being written');
      const reader = await open(path, 'r');
      try {
        const bytes = new Uint8Array(SLICE_FRAMES * channels * 4);
        for (let done = 0; done < frames; ) {
          const count = Math.min(SLICE_FRAMES, frames - done);
          const wanted = count * channels * 4;
          const { bytesRead } = await reader.read(bytes, 0, wanted, done * channels * 4);
          if (bytesRead !== wanted) throw new Error(`the spool ${path} is shorter than what was written`);
          const samples = new Float32Array(bytes.buffer, 0, count * channels);
          const planar = Array.from({ length: channels }, () => new Float32Array(count));
          for (let c = 0; c < channels; c++) {
            const target = planar[c];
            for (let i = 0; i < count; i++) target[i] = samples[i * channels + c];
          }
          done += count;
          yield planar;
        }
      } finally {
        await reader.close();
      }
    },
  };
}
