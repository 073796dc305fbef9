import { LayerStream } from '../../engine/layer.js';
import type { AudioCodec } from '../adapters/media/audio-codec.js';
import type { MediaTags, WavWriter } from '../adapters/media/wav.js';
import type { JobParams, JobOutput } from '../../contract/index.js';

export interface LayerSources {
  /** The job's upload and its WAV master, as files on this machine. */
  input: string;
  master: string;
  params: JobParams;
  output: JobOutput;
  maxDurationSeconds: number;
  /** The layer's credits, licence and recipe, for its INFO chunk and every encode of it. */
  tags: MediaTags;
}

/**
 * Writes the added layer of a finished job as a 16-bit WAV at `target`: the master minus the input decoded
 * again exactly as the job decoded it (the same section, rate and channels), scaled first by the loudness
 * gain when a target moved the level. Both are read as streams, side by side.
 */
export async function writeLayer(codec: AudioCodec, sources: LayerSources, target: string, signal: AbortSignal): Promise<void> {
  const { params, output, maxDurationSeconds } = sources;
  // A section kept whole came back as the whole file: the input is then read whole too.
  const section = params.keep === 'whole' ? {} : { startSeconds: params.start, endSeconds: params.end };
  const input = await codec.decode(sources.input, { ...section, maxSeconds: maxDurationSeconds, signal });
  // The master holds exactly the frames its job wrote; a second of room covers the rounding of the limit.
  const result = await codec.decode(sources.master, { maxSeconds: maxDurationSeconds + 1, signal });
  if (input.channels !== result.channels || input.sampleRate !== result.sampleRate) {
    throw new Error(`the master (${result.channels} ch, ${result.sampleRate} Hz) does not match its input (${input.channels} ch, ${input.sampleRate} Hz)`);
  }
  const gain = output.loudness ? 10 ** (output.loudness.gainDb / 20) : 1;
  const layer = new LayerStream(input.channels, gain);
  let writer: WavWriter | null = null;
  const inputs = input.chunks[Symbol.asyncIterator]();
  try {
    const wav = await codec.writeWav(target, { sampleRate: result.sampleRate, channels: result.channels }, sources.tags);
    writer = wav;
    let inputDone = false;
    for await (const chunk of result.chunks) {
      signal.throwIfAborted();
      await wav.write(layer.addResult(chunk));
      // The input is pulled as far as the result has come, so neither stream runs far ahead of the other.
      while (!inputDone && layer.pending > 0) {
        const next = await inputs.next();
        if (next.done) inputDone = true;
        else await wav.write(layer.addInput(next.value));
      }
    }
    for (let next = await inputs.next(); !next.done; next = await inputs.next()) await wav.write(layer.addInput(next.value));
    layer.finish();
    await wav.close();
  } catch (error) {
    await writer?.abort().catch(() => undefined);
    // Stops the input's decoder, which may be ffmpeg.
    await inputs.return?.(undefined).catch(() => undefined);
    throw error;
  }
}
