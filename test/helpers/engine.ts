import { EnrichStream, type EnrichOptions, type StyleGenerator } from '../../node_app/engine/enrich.js';
import { StreamingLimiter } from '../../node_app/engine/limiter.js';
import { frameCount, type Pcm } from '../../node_app/engine/pcm.js';

/**
 * The engine over whole songs in memory, on one thread, for tests and benches: the server streams every song
 * through the inference pool, so these live here and not in the engine they drive.
 */

/** Adds the style's generated layer to the music, `out = dry + amount * wet`, then peak-limits; in place on `pcm`. */
export async function enrichPcm(pcm: Pcm, generator: StyleGenerator, options: EnrichOptions): Promise<Pcm> {
  if (options.amount === 0 || frameCount(pcm) === 0) return pcm;
  await throughInPlace(pcm.channels, new EnrichStream(pcm.sampleRate, pcm.channels.length, generator, options));
  return pcm;
}

/** The server's streaming limiter over a whole song, in place. */
export async function limitPeaksInPlace(channels: Float32Array[], lookahead: number): Promise<void> {
  await throughInPlace(channels, new StreamingLimiter(channels.length, lookahead));
}

/** Frames per slice when a whole song is fed through a stream. */
const WHOLE_SONG_SLICE = 1 << 16;

interface PlanarStream {
  push(chunk: Float32Array[]): Float32Array[] | Promise<Float32Array[]>;
  finish(): Float32Array[] | Promise<Float32Array[]>;
}

/**
 * Feeds `channels` through `stream` in slices, writing each finished slice back over samples the stream has
 * already taken in: its output trails its input, so nothing is overwritten before it has been read.
 */
async function throughInPlace(channels: Float32Array[], stream: PlanarStream): Promise<void> {
  const length = channels[0]?.length ?? 0;
  if (length === 0) return;
  let written = 0;
  const writeBack = (out: Float32Array[]): void => {
    for (let c = 0; c < channels.length; c++) channels[c].set(out[c], written);
    written += out[0]?.length ?? 0;
  };
  for (let from = 0; from < length; from += WHOLE_SONG_SLICE) {
    writeBack(await stream.push(channels.map((c) => c.subarray(from, Math.min(length, from + WHOLE_SONG_SLICE)))));
  }
  writeBack(await stream.finish());
}
