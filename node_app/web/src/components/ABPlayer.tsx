import { useEffect, useRef, useState } from 'react';
import type WaveSurfer from 'wavesurfer.js';
import { formatDuration } from '../lib/format';
import { Waveform, type WaveformPeaks } from './Waveform';

export type Side = 'original' | 'enriched';

interface Props {
  /** The part of the input that was enriched, on the same time line as the enriched audio. */
  originalUrl: string;
  enrichedUrl: string;
  /** The server's peaks; a side without them downloads and decodes its whole file before it can play. */
  peaks: Partial<Record<Side, WaveformPeaks>>;
  /** Says what the original is, e.g. that it is the same section. */
  originalLabel?: string;
}

/**
 * Two waveforms and one transport: switching between original and enriched keeps the position, so the
 * difference is heard at the same moment of the music. Both stream as they play.
 */
export function ABPlayer({ originalUrl, enrichedUrl, peaks, originalLabel = 'Original' }: Props) {
  const players = useRef<Partial<Record<Side, WaveSurfer>>>({});
  const [side, setSide] = useState<Side>('enriched');
  const [playing, setPlaying] = useState(false);
  // Between Play and the first sound: the audio is still being fetched (or, on a server that encodes the
  // listening copy on demand, made). Without a sign of it, "Pause" over a clock stuck at 0:00 reads as broken.
  const [loading, setLoading] = useState(false);
  const [ready, setReady] = useState<Record<Side, boolean>>({ original: false, enriched: false });
  const [position, setPosition] = useState(0);
  const sideRef = useRef(side);
  sideRef.current = side;

  useEffect(() => () => Object.values(players.current).forEach((p) => p.pause()), []);

  const attach = (which: Side) => (wavesurfer: WaveSurfer) => {
    players.current[which] = wavesurfer;
    const media = wavesurfer.getMediaElement();
    const current = () => which === sideRef.current;
    wavesurfer.on('play', () => current() && setPlaying(true));
    wavesurfer.on('pause', () => current() && (setPlaying(false), setLoading(false)));
    wavesurfer.on('finish', () => current() && (setPlaying(false), setLoading(false)));
    wavesurfer.on('timeupdate', (seconds) => current() && setPosition(seconds));
    media.addEventListener('waiting', () => current() && setLoading(true));
    media.addEventListener('playing', () => current() && setLoading(false));
    setReady((r) => ({ ...r, [which]: true }));
  };

  const toggle = () => {
    const active = players.current[side];
    if (!active) return;
    if (active.isPlaying()) active.pause();
    else {
      // Cleared by 'playing'; set here because a first Play may wait a long time before 'waiting' fires.
      if (active.getMediaElement().readyState < HTMLMediaElement.HAVE_FUTURE_DATA) setLoading(true);
      void active.play();
    }
  };

  const switchTo = (next: Side) => {
    if (next === side) return;
    const from = players.current[side];
    const to = players.current[next];
    if (from && to) {
      to.setTime(Math.min(from.getCurrentTime(), to.getDuration()));
      if (from.isPlaying()) {
        from.pause();
        sideRef.current = next;
        void to.play();
      }
    }
    setSide(next);
    if (to) setPosition(to.getCurrentTime());
  };

  return (
    <section className="ab-player" aria-labelledby="compare-title">
      <h2 id="compare-title">Compare</h2>
      <div className="players">
        <div className={side === 'original' ? 'player active' : 'player'} data-testid="player-original" data-ready={ready.original}>
          <Waveform source={originalUrl} peaks={peaks.original} label={originalLabel} onReady={attach('original')} />
        </div>
        <div className={side === 'enriched' ? 'player active' : 'player'} data-testid="player-enriched" data-ready={ready.enriched}>
          <Waveform source={enrichedUrl} peaks={peaks.enriched} label="Enriched" onReady={attach('enriched')} />
        </div>
      </div>
      <div className="transport">
        <button type="button" className="primary" onClick={toggle} disabled={!ready[side]}>
          {playing ? '❚❚ Pause' : '▶ Play'}
        </button>
        <output className="position" aria-label="Position">
          {formatDuration(position)}.{Math.floor((position % 1) * 10)}
        </output>
        {loading && (
          <span role="status" className="loading">
            Loading the sound…
          </span>
        )}
        <fieldset className="ab-switch">
          <legend>Listen to</legend>
          {(['original', 'enriched'] as const).map((which) => (
            <label key={which}>
              <input type="radio" name="ab" value={which} checked={side === which} disabled={!ready[which]} onChange={() => switchTo(which)} />
              {which === 'original' ? 'A: original' : 'B: enriched'}
            </label>
          ))}
        </fieldset>
      </div>
    </section>
  );
}
