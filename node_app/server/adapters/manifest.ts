import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';

const styleSchema = z.object({
  id: z.string().regex(/^[a-z0-9-]+$/),
  label: z.string().min(1),
  kind: z.enum(['genre', 'nature', 'instrument', 'texture']),
  description: z.string().min(1),
  index: z.number().int().min(0),
});

const manifestSchema = z.object({
  version: z.string(),
  sampleRate: z.number().int().positive(),
  defaultStyle: z.string(),
  model: z.object({
    file: z.string(),
    inputs: z.object({ audio: z.string(), style: z.string(), noise: z.string() }),
    output: z.string(),
    window: z.number().int().positive(),
    overlap: z.number().int().min(0),
  }),
  styles: z.array(styleSchema).min(1),
});

export type Manifest = z.infer<typeof manifestSchema>;
export type StyleEntry = z.infer<typeof styleSchema>;

export interface LoadedManifest extends Manifest {
  /** Absolute path of the ONNX file. */
  modelPath: string;
}

/** Reads models/manifest.json and checks that it describes a usable model. */
export async function loadManifest(modelsDir: string): Promise<LoadedManifest> {
  const file = path.join(modelsDir, 'manifest.json');
  const parsed = manifestSchema.safeParse(JSON.parse(await readFile(file, 'utf8')));
  if (!parsed.success) throw new Error(`${file} is not a valid manifest: ${parsed.error.message}`);
  const manifest = parsed.data;
  if (!manifest.styles.some((s) => s.id === manifest.defaultStyle)) {
    throw new Error(`${file}: defaultStyle "${manifest.defaultStyle}" is not one of the styles`);
  }
  return { ...manifest, modelPath: path.resolve(modelsDir, manifest.model.file) };
}
