import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { styleSchema } from '../../../contract/index.js';
import type { GrainSettings } from '../../../engine/texture.js';

/** A style's recordings, relative to the models folder: mono 16-bit FLAC at the manifest's rate. */
const bankSchema = z.object({
  bed: z.array(z.string()).min(1),
  events: z.array(z.string()),
  /** Mean seconds between events. */
  eventEvery: z.number().positive(),
  /** Seconds per bed segment, where the style wants other than the model's `grains.segment`. */
  segment: z.number().positive().optional(),
});

/** A style as clients see it, and the model's bookkeeping for it. */
const styleEntrySchema = z.object({
  ...styleSchema.shape,
  /** The style's place in the model's style input. */
  index: z.number().int().min(0),
  bank: bankSchema.optional(),
});

const manifestSchema = z.object({
  version: z.string(),
  sampleRate: z.number().int().positive(),
  defaultStyle: z.string(),
  model: z.object({
    file: z.string(),
    inputs: z.object({ audio: z.string(), style: z.string(), noise: z.string(), texture: z.string().optional(), events: z.string().optional() }),
    output: z.string(),
    window: z.number().int().positive(),
    overlap: z.number().int().min(0),
    /** Samples at each inner window edge whose output the engine drops (the fade runs between them). */
    margin: z.number().int().min(0).optional(),
    /** How beds are cut into segments and events spread, in seconds and dB (models/training/grains.py). */
    grains: z.object({ segment: z.number().positive(), fade: z.number().positive(), eventSpreadDb: z.number().min(0), ownEventEvery: z.number().positive() }).optional(),
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

/** The manifest's grain settings in samples at the model's rate; undefined for a model without banks. */
export function grainSettings(manifest: Manifest): GrainSettings | undefined {
  const { grains } = manifest.model;
  if (!grains) return undefined;
  const samples = (seconds: number) => Math.round(seconds * manifest.sampleRate);
  return { segment: samples(grains.segment), fade: samples(grains.fade), eventSpreadDb: grains.eventSpreadDb, ownEventEvery: samples(grains.ownEventEvery) };
}

/** A style's bank with its recordings as `F`: samples for the server, URLs for the browser's preview. */
export interface BankFiles<F> {
  bed: F[];
  events: F[];
  /** Mean samples between two events. */
  eventEvery: number;
  /** Samples per bed segment, where the style has its own. */
  segment?: number;
}

/**
 * The banks of the styles that `uses` picks (all by default), by style index, with each file (an absolute path)
 * turned into `F` by `read`, a style at a time (its files together): lengths in samples at the manifest's rate,
 * as the engine counts them.
 */
export async function mapBanks<F>(
  manifest: LoadedManifest,
  read: (file: string) => Promise<F>,
  uses: (style: StyleEntry) => boolean = () => true,
): Promise<(BankFiles<F> | undefined)[]> {
  const banks: (BankFiles<F> | undefined)[] = new Array(manifest.styles.length).fill(undefined);
  const samples = (seconds: number) => Math.round(seconds * manifest.sampleRate);
  for (const style of manifest.styles) {
    if (!style.bank || !uses(style)) continue;
    const { bed, events, eventEvery, segment } = style.bank;
    banks[style.index] = {
      bed: await Promise.all(bed.map((name) => read(bankFile(manifest, name)))),
      events: await Promise.all(events.map((name) => read(bankFile(manifest, name)))),
      eventEvery: samples(eventEvery),
      ...(segment ? { segment: samples(segment) } : {}),
    };
  }
  return banks;
}

/** Every recording a style's bank names, as absolute paths, each once (a bed may also be an event). */
export function bankFilesOf(manifest: LoadedManifest, style: StyleEntry): string[] {
  return style.bank ? [...new Set([...style.bank.bed, ...style.bank.events].map((name) => bankFile(manifest, name)))] : [];
}

function bankFile(manifest: LoadedManifest, name: string): string {
  return path.resolve(manifest.modelsDir, name);
}
