import type { GeneratorBatch } from './enrich.js';

/** The model's input and output names (manifest `model.inputs`, `model.output`) and its shape. */
export interface ModelSignature {
  inputs: { audio: string; style: string; noise: string; texture?: string; events?: string };
  output: string;
  /** Samples per window. */
  window: number;
  /** Entries of the style input. */
  styleCount: number;
}

/**
 * How a batch of windows becomes model calls, whichever ONNX Runtime runs them (onnxruntime-node on the server,
 * onnxruntime-web in the browser's preview): `tensor` wraps samples in that runtime's tensor and `run` runs one
 * call and returns the output named `signature.output`.
 *
 * One window per call: ONNX Runtime's arena grows to the largest call and keeps it (73 MB more at four windows
 * than at one), and a window then gives the same samples whichever windows it came with and whichever worker
 * runs it, which is what lets a spare worker take every other window of a song.
 */
export async function runWindows<T>(
  signature: ModelSignature,
  tensor: (data: Float32Array, dims: number[]) => T,
  run: (feeds: Record<string, T>) => Promise<Float32Array>,
  { audio, noise, texture, events, styleVector }: GeneratorBatch,
): Promise<Float32Array[]> {
  const { inputs, window, styleCount } = signature;
  const style = tensor(styleVector, [1, styleCount]);
  const row = (block: Float32Array[], b: number) => tensor(block[b], [1, window]);
  const wet: Float32Array[] = [];
  for (let b = 0; b < audio.length; b++) {
    const feeds: Record<string, T> = { [inputs.audio]: row(audio, b), [inputs.noise]: row(noise, b), [inputs.style]: style };
    if (inputs.texture && texture) feeds[inputs.texture] = row(texture, b);
    if (inputs.events && events) feeds[inputs.events] = row(events, b);
    wet.push(await run(feeds));
  }
  return wet;
}
