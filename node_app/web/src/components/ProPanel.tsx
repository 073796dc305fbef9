import type { Style } from '../api';
import { randomSeed } from '../../../contract';
import type { Settings } from '../lib/settings';
import type { AudioSource } from '../lib/source';
import { FormatSelect } from './FormatSelect';
import { LoudnessSelect } from './LoudnessSelect';
import { MixSliders } from './MixSliders';
import { RecipeLoader } from './RecipeLoader';
import { SectionPicker } from './SectionPicker';

interface Props {
  styles: readonly Style[];
  settings: Settings;
  source: AudioSource | null;
  /** The source's length as the browser read it from its header; null when unknown. */
  duration: number | null;
  open: boolean;
  /** Counts "Pick a section" presses: each one opens the panel at the section picker. */
  sectionRequests: number;
  onOpen: (open: boolean) => void;
  onChange: (settings: Settings) => void;
}

/** For people who want control: a mix by percentage, the seed, the output format and loudness, a section, an intensity curve and recipes. */
export function ProPanel({ styles, settings, source, duration, open, onOpen, sectionRequests, onChange }: Props) {
  return (
    <details className="pro-panel" open={open} onToggle={(event) => onOpen(event.currentTarget.open)}>
      <summary>Pro: mix, seed, format, section, recipe, loudness, intensity</summary>
      <MixSliders styles={styles} mix={settings.mix} onChange={(mix) => onChange({ ...settings, mix, surprise: false })} />
      <div className="pro-row">
        <label>
          Seed (empty for a random one)
          <input
            type="number"
            min={0}
            max={4294967295}
            step={1}
            inputMode="numeric"
            value={settings.seed ?? ''}
            onChange={(e) => onChange({ ...settings, seed: e.target.value === '' ? undefined : Math.max(0, Math.floor(Number(e.target.value))) })}
          />
        </label>
        <button type="button" onClick={() => onChange({ ...settings, seed: randomSeed() })}>
          New seed
        </button>
        <FormatSelect label="Output format" value={settings.format} onChange={(format) => onChange({ ...settings, format })} />
        <LoudnessSelect value={settings.loudness} onChange={(loudness) => onChange({ ...settings, loudness })} />
      </div>
      <SectionPicker
        source={source}
        duration={duration}
        start={settings.start}
        end={settings.end}
        keepWhole={settings.keep === 'whole'}
        focusRequests={sectionRequests}
        onChange={(section) => onChange({ ...settings, ...section })}
        onKeepWhole={(keepWhole) => onChange({ ...settings, keep: keepWhole ? 'whole' : undefined })}
        intensity={settings.intensity}
        onIntensity={(intensity) => onChange({ ...settings, intensity })}
      />
      <RecipeLoader knownStyles={styles.map((s) => s.id)} onLoad={onChange} />
    </details>
  );
}
