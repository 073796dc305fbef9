import { useCallback, useEffect, useRef, useState } from 'react';
import { intensityPoints, randomSeed } from '../../../contract';
import { monoOf } from '../../../engine/pcm';
import { settingsToFields, type Settings } from '../lib/settings';
import type { AudioSource } from '../lib/source';
import { savesData } from '../preview/network';
import type { PreviewStage } from '../preview/protocol';

interface Props {
  source: AudioSource;
  settings: Settings;
  /** The seed the preview uses: Enrich sends it when none is set, so the result is what was heard. */
  onSeed: (seed: number) => void;
  /** The user's own recording, when the mix uses the style "own". */
  texture: AudioSource | null;
}

/** What the audio element plays, and the request that made it: the attributes tests and people read. */
interface Shown {
  url: string;
  start: number;
  end: number;
  seed: number;
  style: string;
  amount: number;
  intensity?: string;
}

type Status =
  | { kind: 'loading'; stage: PreviewStage | 'decoding'; fraction: number }
  | { kind: 'ready' }
  | { kind: 'unavailable'; reason: string }
  | { kind: 'failed'; reason: string };

type Client = typeof import('../preview/client');
type Maker = InstanceType<Client['PreviewMaker']>;

/** The section the preview enriches, cut from the decoded song. */
interface Section {
  sampleRate: number;
  channels: Float32Array[];
  start: number;
  end: number;
}

const STAGE_TEXT: Record<PreviewStage | 'decoding', string> = {
  decoding: 'Reading your file',
  runtime: 'Starting the model',
  model: 'Loading the model',
  sounds: 'Loading the recordings',
  enriching: 'Enriching',
};
/** Slider moves come in bursts: at most one preview per this many milliseconds while they last. */
const SETTLE_MS = 120;

/**
 * Returns a function to call when a person shows that a file is coming (a pointer over the file picker or the
 * recorder, focus there, a file dragged in): it loads the preview's code, runtime, model and the chosen style's
 * recordings and runs them once, so that the first preview after the file is chosen takes only its own windows.
 * A visitor who never reaches for a file downloads none of it. Not with Save-Data or on a 2G connection, nor where
 * the preview cannot run at all; the first call does it, later calls do nothing.
 */
export function usePreviewWarmUp(settings: Settings): () => void {
  const style = useRef('');
  style.current = settingsToFields(settings).style ?? '';
  const started = useRef(false);
  return useCallback(() => {
    if (started.current || savesData()) return;
    started.current = true;
    import('../preview/client').then(
      (client) => client.previewMaker()?.prepare(style.current, 0),
      () => undefined,
    );
  }, []);
}

/**
 * Ten seconds of the chosen audio, enriched in this browser by the server's own engine and model, before
 * anything is uploaded. The preview's code, the runtime, the model and the recordings load when a person reaches for a
 * file ({@link usePreviewWarmUp}) or once a file is chosen; a new style, mix, amount or seed makes a new preview, which plays on from the same place.
 */
export function Preview({ source, settings, onSeed, texture }: Props) {
  const [status, setStatus] = useState<Status>({ kind: 'loading', stage: 'decoding', fraction: 0 });
  const [shown, setShown] = useState<Shown | null>(null);
  const [song, setSong] = useState<{ source: AudioSource; decoded: import('../preview/client').DecodedSong } | null>(null);
  const [section, setSection] = useState<Section | null>(null);
  const [ownTexture, setOwnTexture] = useState<{ texture: AudioSource; mono: Float32Array; sampleRate: number } | null>(null);
  const [drawnSeed] = useState(randomSeed);
  const client = useRef<Client | null>(null);
  const maker = useRef<Maker | null>(null);
  const stopListening = useRef<(() => void) | null>(null);
  const lastSent = useRef(0);
  const audio = useRef<HTMLAudioElement>(null);
  const resume = useRef<{ time: number; playing: boolean } | null>(null);
  const pending = useRef<Omit<Shown, 'url'> | null>(null);
  const shownUrl = useRef<string | null>(null);
  const seed = settings.seed ?? drawnSeed;
  const style = settingsToFields(settings).style ?? '';
  const { amount, start, end, intensity } = settings;
  const choice = useRef({ style, seed });
  choice.current = { style, seed };

  useEffect(() => onSeed(seed), [seed, onSeed]);

  useEffect(
    () => () => {
      stopListening.current?.();
      if (shownUrl.current) URL.revokeObjectURL(shownUrl.current);
    },
    [],
  );

  // A file is decoded once; while it is, the worker loads what the preview needs.
  useEffect(() => {
    let current = true;
    setStatus({ kind: 'loading', stage: 'decoding', fraction: 0 });
    setShown(null);
    setSection(null);
    void (async () => {
      const loaded = (client.current ??= await import('../preview/client'));
      const shared = loaded.previewMaker();
      if (!shared) throw new loaded.PreviewUnavailable('this browser lacks WebAssembly, workers or Web Audio');
      if (!current) return;
      if (!maker.current) {
        maker.current = shared;
        stopListening.current = shared.listen({
          onProgress: (stage, fraction) => setStatus({ kind: 'loading', stage, fraction }),
          onReady: (wav, timings) => {
            if (!pending.current) return;
            // The worker's steps, for the profiler's reader and test/e2e/preview.test.ts's record of where the time went.
            console.debug(`preview timings ${JSON.stringify(timings.spans)}`);
            const element = audio.current;
            resume.current = element && element.currentSrc ? { time: element.currentTime, playing: !element.paused } : null;
            if (shownUrl.current) URL.revokeObjectURL(shownUrl.current);
            shownUrl.current = URL.createObjectURL(wav);
            setShown({ url: shownUrl.current, ...pending.current });
            setStatus({ kind: 'ready' });
          },
          onFailed: (reason, unavailable) => setStatus(unavailable ? { kind: 'unavailable', reason } : { kind: 'failed', reason }),
        });
      }
      maker.current.prepare(choice.current.style, choice.current.seed);
      const decodeStart = performance.now();
      const decoded = await loaded.decodeSong(source.blob);
      performance.measure('preview decode song', { start: decodeStart });
      if (current) setSong({ source, decoded });
    })().catch((error: unknown) => {
      if (!current) return;
      const reason = error instanceof Error ? error.message : String(error);
      setStatus(error instanceof Error && error.name === 'PreviewUnavailable' ? { kind: 'unavailable', reason } : { kind: 'failed', reason });
    });
    return () => {
      current = false;
    };
  }, [source]);

  useEffect(() => {
    if (!song || song.source !== source || !client.current) return;
    const { decoded } = song;
    const pickStart = performance.now();
    const picked = client.current.pickSection(decoded, { start, end });
    setSection({ sampleRate: decoded.sampleRate, channels: client.current.sectionSamples(decoded, picked), ...picked });
    performance.measure('preview pick section', { start: pickStart });
  }, [song, source, start, end]);

  // The own sound is decoded and mixed to mono here as the server does; the worker brings it to the model's rate.
  useEffect(() => {
    if (!texture) return;
    let current = true;
    void (async () => {
      const loaded = (client.current ??= await import('../preview/client'));
      const decoded = await loaded.decodeSong(texture.blob);
      if (current) setOwnTexture({ texture, mono: monoOf(decoded.channels), sampleRate: decoded.sampleRate });
    })().catch(() => current && setStatus({ kind: 'failed', reason: 'this browser cannot decode your own sound' }));
    return () => {
      current = false;
    };
  }, [texture]);
  const own = texture && ownTexture?.texture === texture ? ownTexture : null;

  useEffect(() => {
    if (!section || !maker.current) return;
    const send = () => {
      lastSent.current = performance.now();
      pending.current = { start: section.start, end: section.end, seed, style, amount, intensity };
      // The curve is in the song's time: the section starts at its own frame of the song, as on the server.
      const curve = intensity === undefined ? undefined : { points: intensityPoints(intensity), firstFrame: Math.round(section.start * section.sampleRate) };
      maker.current?.make({
        channels: section.channels,
        sampleRate: section.sampleRate,
        style,
        amount,
        seed,
        ...(curve ? { intensity: curve } : {}),
        ...(own ? { ownTexture: { mono: own.mono, sampleRate: own.sampleRate } } : {}),
      });
    };
    // A click goes at once; a slider's burst of moves goes every SETTLE_MS and where it stops.
    const wait = lastSent.current + SETTLE_MS - performance.now();
    if (wait <= 0) return send();
    const timer = setTimeout(send, wait);
    return () => clearTimeout(timer);
  }, [section, style, amount, seed, intensity, own]);

  const continuePlaying = () => {
    const element = audio.current;
    const at = resume.current;
    resume.current = null;
    if (!element || !at) return;
    element.currentTime = Math.min(at.time, element.duration || at.time);
    if (at.playing) void element.play().catch(() => undefined);
  };

  return (
    <div className="preview" aria-live="polite">
      <h3>Preview</h3>
      {status.kind === 'unavailable' ? (
        <p className="hint">The preview is not available here ({status.reason}). Enrich works as usual.</p>
      ) : status.kind === 'failed' ? (
        <p className="hint">No preview this time ({status.reason}). Enrich works as usual.</p>
      ) : status.kind === 'loading' ? (
        <label className="preview-progress">
          <span>
            {STAGE_TEXT[status.stage]}… {Math.round(status.fraction * 100)} %
          </span>
          <progress max={1} value={status.fraction} />
        </label>
      ) : (
        shown && (
          <p className="hint">
            {formatSeconds(shown.start)}–{formatSeconds(shown.end)} of your audio, enriched here in the browser; nothing has been uploaded.
          </p>
        )
      )}
      {shown && (
        <audio
          ref={audio}
          controls
          src={shown.url}
          data-testid="preview"
          data-start={shown.start}
          data-end={shown.end}
          data-seed={shown.seed}
          data-style={shown.style}
          data-amount={shown.amount}
          data-intensity={shown.intensity}
          aria-label="Play the preview"
          onLoadedMetadata={continuePlaying}
        />
      )}
    </div>
  );
}

function formatSeconds(seconds: number): string {
  const whole = Math.floor(seconds);
  const tenths = Math.round((seconds - whole) * 10);
  return `${Math.floor(whole / 60)}:${String(whole % 60).padStart(2, '0')}${tenths ? `.${tenths}` : ''}`;
}
