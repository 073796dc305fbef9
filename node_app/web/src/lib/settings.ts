import { DEFAULT_AMOUNT, DEFAULT_FORMAT, RANDOM_STYLE, type KeepMode, type LoudnessTarget } from '../../../contract';
import type { EnrichFields, Job, OutputFormat } from '../api';
import { mixToSpec, toPercentages, type Mix } from './mix';

/** Everything the landing page lets a person choose before pressing Enrich. */
export interface Settings {
  mix: Mix;
  /** Ask the server for a seeded random mix instead of `mix`. */
  surprise: boolean;
  amount: number;
  seed?: number;
  format: OutputFormat;
  start?: number;
  end?: number;
  /** `whole`: the whole file comes back, enriched only from start to end. */
  keep?: KeepMode;
  /** The result's loudness: LUFS or the original's; as made when not set. */
  loudness?: LoudnessTarget;
  /** The intensity curve as the `intensity` field takes it; the whole amount throughout when not set. */
  intensity?: string;
}

export function defaultSettings(defaultStyle: string): Settings {
  return { mix: { [defaultStyle]: 100 }, surprise: false, amount: DEFAULT_AMOUNT, format: DEFAULT_FORMAT };
}

export function settingsToFields(settings: Settings): EnrichFields {
  return {
    style: settings.surprise ? RANDOM_STYLE : mixToSpec(settings.mix),
    amount: settings.amount,
    seed: settings.seed,
    format: settings.format,
    start: settings.start,
    end: settings.end,
    keep: settings.keep,
    loudness: settings.loudness,
    intensity: settings.intensity,
  };
}

/** The settings that made `job`, to enrich another file the same way. */
export function settingsFromJob(job: Job): Settings {
  const { weights, amount, seed, format, start, end, keep, loudness, intensity } = job.params;
  return { mix: toPercentages(weights), surprise: false, amount, seed, format, start, end, keep, loudness, intensity };
}
