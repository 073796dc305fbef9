import { useEffect, useRef, useState } from 'react';
import type WaveSurfer from 'wavesurfer.js';

export interface WaveformProps {
  /** A URL or a local file to draw. */
  source: string | Blob;
  /** Names the picture for screen readers, e.g. "Original" or "Enriched". */
  label: string;
  height?: number;
  spectrogram?: boolean;
  /** Clicking seeks; off for pictures that only show progress. */
  interact?: boolean;
  onReady?: (wavesurfer: WaveSurfer) => void;
}

/**
 * A wavesurfer.js waveform (and spectrogram), loaded on demand: the library is the largest part of the
 * bundle and the landing page does not need it until a file has been chosen.
 */
export function Waveform({ source, label, height = 72, spectrogram = false, interact = true, onReady }: WaveformProps) {
  const container = useRef<HTMLDivElement>(null);
  const readyCallback = useRef(onReady);
  readyCallback.current = onReady;
  const [state, setState] = useState<'loading' | 'ready' | 'failed'>('loading');

  useEffect(() => {
    let wavesurfer: WaveSurfer | null = null;
    let cancelled = false;
    setState('loading');
    void (async () => {
      const [{ default: WaveSurferClass }, spectrogramPlugin] = await Promise.all([
        import('wavesurfer.js'),
        spectrogram ? import('wavesurfer.js/dist/plugins/spectrogram.esm.js') : Promise.resolve(null),
      ]);
      if (cancelled || !container.current) return;
      wavesurfer = WaveSurferClass.create({
        container: container.current,
        height,
        waveColor: '#8f86c9',
        progressColor: '#4b3fa3',
        cursorColor: '#1d1b26',
        interact,
        // wavesurfer decodes at 8 kHz by default, which would cut the spectrogram off at 4 kHz.
        sampleRate: spectrogram ? 22050 : 8000,
        plugins: spectrogramPlugin
          ? [spectrogramPlugin.default.create({ labels: true, height: 96, scale: 'mel', labelsBackground: 'rgba(0,0,0,0.3)' })]
          : [],
      });
      wavesurfer.on('ready', () => {
        setState('ready');
        if (wavesurfer) readyCallback.current?.(wavesurfer);
      });
      wavesurfer.on('error', () => setState('failed'));
      const loading = typeof source === 'string' ? wavesurfer.load(source) : wavesurfer.loadBlob(source);
      loading.catch(() => setState('failed'));
    })().catch(() => setState('failed'));
    return () => {
      cancelled = true;
      wavesurfer?.destroy();
    };
  }, [source, height, spectrogram, interact]);

  return (
    <figure className="waveform" data-state={state}>
      <div ref={container} role="img" aria-label={`${label}: waveform${spectrogram ? ' and spectrogram' : ''}`} />
      <figcaption>
        {label}
        {state === 'loading' && ' (loading…)'}
        {state === 'failed' && ' (could not be drawn in this browser)'}
      </figcaption>
    </figure>
  );
}
