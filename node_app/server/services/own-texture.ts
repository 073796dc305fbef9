import { AppError, ErrorCode, OWN_TEXTURE_SECONDS, textureErrors } from '../../contract/index.js';
import { monoOf } from '../../engine/pcm.js';
import { resampleLinear } from '../../engine/resample.js';
import { normaliseRecording } from '../../engine/texture.js';
import type { AudioCodec } from '../adapters/media/audio-codec.js';
import { toKnownError } from './media-failures.js';

/**
 * A user's own recording (the `texture` upload) as the own style's bank wants it: decoded with the same checks
 * as the song, mixed to mono, brought to the model's rate (linear interpolation: the recording is a texture
 * the network reshapes, not the music) and to the banks' level as 16-bit samples. Its problems are answered
 * with the field named, so the user knows which of the two files to fix.
 */
export async function readOwnTexture(codec: AudioCodec, path: string, modelRate: number, signal?: AbortSignal): Promise<Int16Array> {
  const { mono, sampleRate } = await decodeMono(codec, path, signal).catch((error: unknown) => {
    throw aboutTexture(error);
  });
  const seconds = mono.length / sampleRate;
  if (seconds < OWN_TEXTURE_SECONDS.min) throw textureErrors.tooShort(seconds);
  return normaliseRecording(resampleLinear(mono, sampleRate, modelRate));
}

async function decodeMono(codec: AudioCodec, path: string, signal?: AbortSignal): Promise<{ mono: Float32Array; sampleRate: number }> {
  const stream = await codec.decode(path, { maxSeconds: OWN_TEXTURE_SECONDS.max, signal });
  const parts: Float32Array[] = [];
  let frames = 0;
  for await (const chunk of stream.chunks) {
    const mono = monoOf(chunk);
    parts.push(mono);
    frames += mono.length;
  }
  const mono = new Float32Array(frames);
  let at = 0;
  for (const part of parts) {
    mono.set(part, at);
    at += part.length;
  }
  return { mono, sampleRate: stream.sampleRate };
}

/** The same answer as for the song, said of the texture. */
function aboutTexture(error: unknown): unknown {
  const known = toKnownError(error);
  if (!known) return error;
  if (known.code === ErrorCode.TOO_LONG) return textureErrors.tooLong();
  return new AppError(known.code, `The texture file: ${known.message}`, known.headers, known.status);
}
