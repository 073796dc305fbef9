import { useEffect, useMemo, useRef, useState } from 'react';
import type WaveSurfer from 'wavesurfer.js';
import type { AudioSource } from '../lib/source';
import { IntensityEditor } from './IntensityEditor';
import { Waveform } from './Waveform';

interface Props {
  source: AudioSource | null;
  /** Seconds, from the file's header; null when the browser could not tell. */
  duration: number | null;
  start?: number;
  end?: number;
  /** Whether the whole file comes back, enriched only in the section. */
  keepWhole: boolean;
  /** A count that rises each time "Pick a section" is pressed: the picker then scrolls into view and takes focus. */
  focusRequests: number;
  onChange: (section: { start?: number; end?: number }) => void;
  onKeepWhole: (keepWhole: boolean) => void;
  /** The intensity curve, drawn over the same waveform (see IntensityEditor). */
  intensity?: string;
  onIntensity: (intensity: string | undefined) => void;
}

/**
 * Drawing a waveform means decoding every sample in the browser: 5 s and over 1 GB for a two-hour file. Past
 * these, the picker shows a plain timeline the audio element streams, and decodes nothing.
 */
const MAX_DRAWN_SECONDS = 20 * 60;
const MAX_DRAWN_BYTES = 40 * 1024 * 1024;

const WAVEFORM_HEIGHT = 64;

const parseSeconds = (text: string): number | undefined => (text.trim() === '' ? undefined : Math.max(0, Number(text)));
const rounded = (seconds: number) => Math.round(seconds * 10) / 10;

/** Start and end of the section to enrich, typed or dragged on the waveform. */
export function SectionPicker({ source, duration, start, end, keepWhole, focusRequests, onChange, onKeepWhole, intensity, onIntensity }: Props) {
  // The header may not tell the length; the drawn waveform does.
  const [drawnDuration, setDrawnDuration] = useState<number | null>(null);
  const region = useRef<{ setOptions(o: { start?: number; end?: number }): void } | null>(null);
  const fieldset = useRef<HTMLFieldSetElement>(null);
  const startField = useRef<HTMLInputElement>(null);
  const latest = useRef(onChange);
  latest.current = onChange;

  useEffect(() => {
    if (focusRequests === 0) return;
    fieldset.current?.scrollIntoView?.({ block: 'start' });
    startField.current?.focus({ preventScroll: true });
  }, [focusRequests]);

  const tooLongToDraw = source !== null && (duration === null ? source.blob.size > MAX_DRAWN_BYTES : duration > MAX_DRAWN_SECONDS);
  // A flat line as long as the audio: the section can be dragged on it without a sample being decoded.
  const timeline = useMemo(() => (tooLongToDraw && duration !== null ? { levels: [0.05, 0.05], duration } : undefined), [tooLongToDraw, duration]);

  useEffect(() => {
    region.current?.setOptions({ start: start ?? 0, ...(end !== undefined ? { end } : {}) });
  }, [start, end]);

  const addRegion = async (wavesurfer: WaveSurfer) => {
    const { default: RegionsPlugin } = await import('wavesurfer.js/dist/plugins/regions.esm.js');
    const regions = wavesurfer.registerPlugin(RegionsPlugin.create());
    const duration = wavesurfer.getDuration();
    setDrawnDuration(duration);
    const created = regions.addRegion({ start: start ?? 0, end: end ?? duration, color: 'rgba(75, 63, 163, 0.25)', drag: true, resize: true });
    region.current = created;
    created.on('update-end', () => {
      const whole = created.start <= 0.05 && created.end >= duration - 0.05;
      latest.current(whole ? {} : { start: rounded(created.start), end: rounded(created.end) });
    });
  };

  return (
    <fieldset ref={fieldset} className="section-picker" id="section-picker">
      <legend>Section to enrich, and the intensity over time</legend>
      {!source ? (
        <p className="hint">Choose a file or record to see its waveform here.</p>
      ) : (
        <IntensityEditor value={intensity} duration={duration ?? drawnDuration} height={WAVEFORM_HEIGHT} onChange={onIntensity}>
          {tooLongToDraw && !timeline ? (
            <p className="hint">This file is too long to draw here; type where the section starts and ends.</p>
          ) : (
            <Waveform
              source={source.blob}
              peaks={timeline}
              label={
                timeline
                  ? 'Your audio, too long to draw here: drag the edges of the shaded part to choose a section'
                  : 'Your audio: drag the edges of the shaded part to choose a section'
              }
              height={WAVEFORM_HEIGHT}
              onReady={(ws) => void addRegion(ws)}
            />
          )}
        </IntensityEditor>
      )}
      <div className="section-fields">
        <label>
          Start (seconds)
          <input
            ref={startField}
            type="number"
            min={0}
            step={0.1}
            inputMode="decimal"
            value={start ?? ''}
            placeholder="0"
            onChange={(e) => onChange({ start: parseSeconds(e.target.value), end })} />
        </label>
        <label>
          End (seconds)
          <input type="number" min={0} step={0.1} inputMode="decimal" value={end ?? ''} placeholder="end" onChange={(e) => onChange({ start, end: parseSeconds(e.target.value) })} />
        </label>
      </div>
      <label className="check">
        <input type="checkbox" checked={keepWhole} onChange={(e) => onKeepWhole(e.target.checked)} />
        Give back the whole file, enriched only in this section
      </label>
    </fieldset>
  );
}
