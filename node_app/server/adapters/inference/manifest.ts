import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { styleSchema } from '../../../contract/index.js';
import type { TextureLoops } from '../../../engine/texture.js';
import { readWav } from '../media/wav.js';

/** A style as clients see it, and the model's bookkeeping for it. */
const styleEntrySchema = z.object({
  ...styleSchema.shape,
  /** The style's place in the model's style input. */
  index: z.number().int().min(0),
  /** A seamless mono loop of the recording the model shapes for this style, relative to the models folder. */
  texture: z.string().optional(),
});

const manifestSchema = z.object({
  version: z.string(),
  sampleRate: z.number().int().positive(),
  defaultStyle: z.string(),
  model: z.object({
    file: z.string(),
    inputs: z.object({ audio: z.string(), style: z.string(), noise: z.string(), texture: z.string().optional() }),
    output: z.string(),
    window: z.number().int().positive(),
    overlap: z.number().int().min(0),
    /** Samples at each inner window edge whose output the engine drops (the fade runs between them). */
    margin: z.number().int().min(0).optional(),
  }),
  styles: z.array(styleEntrySchema).min(1),
});

export type Manifest = z.infer<typeof manifestSchema>;
export type StyleEntry = z.infer<typeof styleEntrySchema>;

export interface LoadedManifest extends Manifest {
  /** The folder the manifest was read from; the files it names are relative to it. */
  modelsDir: string;
  /** Absolute path of the ONNX file. */
  modelPath: string;
}

/** Reads models/manifest.json and checks that it describes a usable model. */
export async function loadManifest(modelsDir: string): Promise<LoadedManifest> {
  const file = path.join(modelsDir, 'manifest.json');
  const parsed = manifestSchema.safeParse(JSON.parse(await readFile(file, 'utf8')));
  if (!parsed.success) throw new Error(`${file} is not a valid manifest: ${parsed.error.message}`);
  const manifest = parsed.data;
  const unlicensed = manifest.styles.find((s) => s.credit && !s.license);
  if (unlicensed) throw new Error(`${file}: style "${unlicensed.id}" credits a recording but names no license`);
  if (!manifest.styles.some((s) => s.id === manifest.defaultStyle)) {
    throw new Error(`${file}: defaultStyle "${manifest.defaultStyle}" is not one of the styles`);
  }
  return { ...manifest, modelsDir, modelPath: path.resolve(modelsDir, manifest.model.file) };
}

/**
 * The styles' texture loops by style index, as floats at the model's rate; undefined for a model without a
 * texture input. Each file must be mono at the manifest's rate: the model was trained on exactly these samples.
 */
export async function readTextureLoops(manifest: LoadedManifest): Promise<TextureLoops | undefined> {
  if (!manifest.model.inputs.texture) return undefined;
  const loops: (Float32Array | undefined)[] = new Array(manifest.styles.length).fill(undefined);
  for (const style of manifest.styles) {
    if (!style.texture) continue;
    const file = path.resolve(manifest.modelsDir, style.texture);
    const pcm = readWav(await readFile(file));
    if (!pcm || pcm.channels.length !== 1 || pcm.sampleRate !== manifest.sampleRate) {
      throw new Error(`${file} must be a mono WAV at ${manifest.sampleRate} Hz`);
    }
    loops[style.index] = pcm.channels[0];
  }
  return loops;
}
