import { useEffect, useRef } from 'react';
import type WaveSurfer from 'wavesurfer.js';
import type { AudioSource } from '../lib/source';
import { Waveform } from './Waveform';

interface Props {
  source: AudioSource | null;
  start?: number;
  end?: number;
  onChange: (section: { start?: number; end?: number }) => void;
}

const parseSeconds = (text: string): number | undefined => (text.trim() === '' ? undefined : Math.max(0, Number(text)));
const rounded = (seconds: number) => Math.round(seconds * 10) / 10;

/** Start and end of the section to enrich, typed or dragged on the waveform. */
export function SectionPicker({ source, start, end, onChange }: Props) {
  const region = useRef<{ setOptions(o: { start?: number; end?: number }): void } | null>(null);
  const latest = useRef(onChange);
  latest.current = onChange;

  useEffect(() => {
    region.current?.setOptions({ start: start ?? 0, ...(end !== undefined ? { end } : {}) });
  }, [start, end]);

  const addRegion = async (wavesurfer: WaveSurfer) => {
    const { default: RegionsPlugin } = await import('wavesurfer.js/dist/plugins/regions.esm.js');
    const regions = wavesurfer.registerPlugin(RegionsPlugin.create());
    const duration = wavesurfer.getDuration();
    const created = regions.addRegion({ start: start ?? 0, end: end ?? duration, color: 'rgba(75, 63, 163, 0.25)', drag: true, resize: true });
    region.current = created;
    created.on('update-end', () => {
      const whole = created.start <= 0.05 && created.end >= duration - 0.05;
      latest.current(whole ? {} : { start: rounded(created.start), end: rounded(created.end) });
    });
  };

  return (
    <fieldset className="section-picker">
      <legend>Section to enrich</legend>
      {source ? (
        <Waveform source={source.blob} label="Your audio: drag the edges of the shaded part to choose a section" height={64} onReady={(ws) => void addRegion(ws)} />
      ) : (
        <p className="hint">Choose a file or record to see its waveform here.</p>
      )}
      <div className="section-fields">
        <label>
          Start (seconds)
          <input type="number" min={0} step={0.1} inputMode="decimal" value={start ?? ''} placeholder="0" onChange={(e) => onChange({ start: parseSeconds(e.target.value), end })} />
        </label>
        <label>
          End (seconds)
          <input type="number" min={0} step={0.1} inputMode="decimal" value={end ?? ''} placeholder="end" onChange={(e) => onChange({ start, end: parseSeconds(e.target.value) })} />
        </label>
      </div>
    </fieldset>
  );
}
