import { useEffect, useRef, useState } from 'react';
import type WaveSurfer from 'wavesurfer.js';

/** Tall enough to tell a hiss from a rumble on a phone. */
const SPECTROGRAM_HEIGHT = 200;

/**
 * Levels the server measured (GET /api/jobs/:id/peaks), and the audio's length in seconds; or, for a
 * spectrogram of audio decoded here, every sample of it.
 */
export interface WaveformPeaks {
  levels: readonly number[] | Float32Array;
  duration: number;
}

export interface WaveformProps {
  /** A URL or a local file to draw. */
  source: string | Blob;
  /**
   * With peaks, nothing is downloaded or decoded to draw: the picture comes from them and the audio element
   * streams the URL (byte ranges) or the local file only as it plays. Without, the whole file is fetched and
   * decoded first.
   */
  peaks?: WaveformPeaks;
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
export function Waveform({ source, peaks, label, height = 72, spectrogram = false, interact = true, onReady }: WaveformProps) {
  const container = useRef<HTMLDivElement>(null);
  const readyCallback = useRef(onReady);
  readyCallback.current = onReady;
  const [state, setState] = useState<'loading' | 'ready' | 'failed'>('loading');

  useEffect(() => {
    let wavesurfer: WaveSurfer | null = null;
    let objectUrl: string | null = null;
    let cancelled = false;
    setState('loading');
    void (async () => {
      const [{ default: WaveSurferClass }, spectrogramPlugin] = await Promise.all([
        import('wavesurfer.js'),
        spectrogram ? import('wavesurfer.js/dist/plugins/spectrogram.esm.js') : Promise.resolve(null),
      ]);
      if (cancelled || !container.current) return;
      // Fetches only the header until Play: two players buffering at once would halve a phone's bandwidth.
      const media = document.createElement('audio');
      media.preload = 'metadata';
      wavesurfer = WaveSurferClass.create({
        container: container.current,
        media,
        height,
        waveColor: '#8f86c9',
        progressColor: '#4b3fa3',
        cursorColor: '#1d1b26',
        interact,
        // wavesurfer decodes at 8 kHz by default, which would cut the spectrogram off at 4 kHz.
        sampleRate: spectrogram ? 22050 : 8000,
        plugins: spectrogramPlugin
          ? [spectrogramPlugin.default.create({ labels: true, height: SPECTROGRAM_HEIGHT, scale: 'mel', labelsBackground: 'rgba(0,0,0,0)', frequencyMax: 11025 })]
          : [],
      });
      wavesurfer.on('ready', () => {
        setState('ready');
        if (wavesurfer) readyCallback.current?.(wavesurfer);
      });
      wavesurfer.on('error', () => setState('failed'));
      // A local file with peaks is streamed by the audio element from an object URL, like a server's file.
      if (typeof source !== 'string' && peaks) objectUrl = URL.createObjectURL(source);
      const url = objectUrl ?? source;
      const loading =
        typeof url !== 'string'
          ? wavesurfer.loadBlob(url)
          : peaks
            ? wavesurfer.load(url, [peaks.levels instanceof Float32Array ? peaks.levels : Float32Array.from(peaks.levels)], peaks.duration)
            : wavesurfer.load(url);
      loading.catch(() => setState('failed'));
    })().catch(() => setState('failed'));
    return () => {
      cancelled = true;
      wavesurfer?.destroy();
      if (objectUrl) URL.revokeObjectURL(objectUrl);
    };
  }, [source, peaks, height, spectrogram, interact]);

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
