import { LISTENING_FORMAT, type JobParams } from '../../contract/index.js';
import type { AudioCodec } from '../adapters/media/audio-codec.js';
import type { WavWriter } from '../adapters/media/wav.js';
import type { FileStore } from '../adapters/storage/file-store.js';

export interface OriginalSources {
  /** The job's upload, as a file on this machine. */
  input: string;
  params: JobParams;
  maxDurationSeconds: number;
}

/**
 * Writes the original's listening copy at `target`: the part of the upload the job enriched (its section, or all of
 * it when kept whole), decoded again exactly as the job decoded it, so it lies on the result's time line. The
 * samples go to a 16-bit WAV beside `target` first and are encoded from it, so only one ffmpeg runs at a time (the
 * decoder, then the encoder): a dyno's memory limit counts each Debian ffmpeg at about 52 MB.
 */
export async function writeOriginalCopy(codec: AudioCodec, files: FileStore, sources: OriginalSources, target: string, signal: AbortSignal): Promise<void> {
  const { params, maxDurationSeconds } = sources;
  const section = params.keep === 'whole' ? {} : { startSeconds: params.start, endSeconds: params.end };
  const decoded = await codec.decode(sources.input, { ...section, maxSeconds: maxDurationSeconds, signal });
  const wavPath = `${target}.wav`;
  let writer: WavWriter | null = null;
  const chunks = decoded.chunks[Symbol.asyncIterator]();
  try {
    const wav = await codec.writeWav(wavPath, { sampleRate: decoded.sampleRate, channels: decoded.channels });
    writer = wav;
    for (let next = await chunks.next(); !next.done; next = await chunks.next()) {
      signal.throwIfAborted();
      await wav.write(next.value);
    }
    await wav.close();
    writer = null;
    await codec.transcode(wavPath, LISTENING_FORMAT, target, signal);
  } catch (error) {
    await writer?.abort().catch(() => undefined);
    // Stops the decoder, which may be ffmpeg.
    await chunks.return?.(undefined).catch(() => undefined);
    throw error;
  } finally {
    await files.removeFile(wavPath).catch(() => undefined);
  }
}
