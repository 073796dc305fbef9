import { concatPlanar, type Pcm } from '../../node_app/engine/pcm.js';
import { streamWithFfmpeg, type FfmpegDecodeOptions } from '../../node_app/server/adapters/media/ffmpeg/decode.js';
import { ProcessLauncher } from '../../node_app/server/adapters/media/process-launcher.js';
import { createWavWriter, openWavFile } from '../../node_app/server/adapters/media/wav.js';

/**
 * Whole songs in memory, for tests, benches and scripts: the server itself only ever streams, so these live
 * here and not in the adapters they drive.
 */

/** Reads a stream of planar slices to its end. */
export async function collectPcm(stream: { sampleRate: number; channels: number; chunks: AsyncIterable<Float32Array[]> }): Promise<Pcm> {
  const parts: Float32Array[][] = [];
  for await (const chunk of stream.chunks) parts.push(chunk);
  return { sampleRate: stream.sampleRate, channels: concatPlanar(parts, stream.channels) };
}

/** Starts the decodes below, as the server's codec starts its own; idle, it keeps no test or script alive. */
const launcher = new ProcessLauncher();

/** Decodes any input ffmpeg understands to planar float32, all of it, through the server's own decoder. */
export function decodeWithFfmpeg(binary: string, input: string, options: FfmpegDecodeOptions): Promise<Pcm> {
  return collectPcm({ sampleRate: options.sampleRate, channels: options.channels, chunks: streamWithFfmpeg(launcher, binary, input, options) });
}

/** A WAV file read whole through the server's in-process reader; null when that reader cannot take it. */
export async function readWavPcm(path: string): Promise<Pcm | null> {
  const source = await openWavFile(path);
  return source && collectPcm({ sampleRate: source.sampleRate, channels: source.channels, chunks: source.slices(0, source.frames) });
}

const SLICE_FRAMES = 65536;

/** A whole song written as 16-bit WAV through the server's streaming writer. */
export async function writeWav16(pcm: Pcm, path: string): Promise<void> {
  const frames = pcm.channels[0]?.length ?? 0;
  const writer = await createWavWriter(path, pcm.channels.length, pcm.sampleRate);
  try {
    for (let start = 0; start < frames; start += SLICE_FRAMES) {
      await writer.write(pcm.channels.map((c) => c.subarray(start, Math.min(frames, start + SLICE_FRAMES))));
    }
  } catch (error) {
    await writer.abort();
    throw error;
  }
  await writer.close();
}
