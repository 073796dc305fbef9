import { useEffect, useState } from 'react';
import { Waveform } from './Waveform';

/** Enough for the spectrograms' 11 kHz top, and a quarter of the memory of 44.1 kHz. */
const RATE = 22050;

interface Decoded {
  original: Float32Array;
  enriched: Float32Array;
  added: Float32Array;
  duration: number;
}

interface Props {
  /** The part of the input that was enriched, on the result's time line. */
  originalUrl: string;
  /** The lossless master. */
  enrichedUrl: string;
}

/**
 * Spectrograms of the original (the part of it that was enriched), the enriched audio and what was added (the
 * difference of the two), drawn only when asked for: they need both files downloaded and decoded in full,
 * which the players do not.
 */
export function Spectrograms({ originalUrl, enrichedUrl }: Props) {
  const [open, setOpen] = useState(false);
  const [decoded, setDecoded] = useState<Decoded | 'failed' | null>(null);

  useEffect(() => {
    if (!open || decoded) return;
    let current = true;
    decodeBoth(originalUrl, enrichedUrl).then(
      (result) => current && setDecoded(result),
      () => current && setDecoded('failed'),
    );
    return () => {
      current = false;
    };
  }, [open, decoded, originalUrl, enrichedUrl]);

  return (
    <details className="spectrograms card" onToggle={(event) => setOpen(event.currentTarget.open)}>
      <summary>Spectrograms: see what was added</summary>
      <p className="hint">
        Time runs left to right, pitch bottom (low) to top (11 kHz); brighter is louder. “What was added” is the enriched audio minus the
        original: the style's own sound. Both files are downloaded in full for this.
      </p>
      {open && decoded === null && <p role="status">Downloading and decoding both files…</p>}
      {decoded === 'failed' && <p role="alert">The spectrograms could not be drawn in this browser.</p>}
      {decoded && decoded !== 'failed' && (
        <div className="spectrogram-pair" data-testid="spectrograms">
          <Waveform source="" peaks={{ levels: decoded.original, duration: decoded.duration }} label="Original" height={40} spectrogram interact={false} />
          <Waveform source="" peaks={{ levels: decoded.enriched, duration: decoded.duration }} label="Enriched" height={40} spectrogram interact={false} />
          <Waveform source="" peaks={{ levels: decoded.added, duration: decoded.duration }} label="What was added" height={40} spectrogram interact={false} />
        </div>
      )}
    </details>
  );
}

async function decodeBoth(originalUrl: string, enrichedUrl: string): Promise<Decoded> {
  const context = new OfflineAudioContext(1, 1, RATE);
  const decode = async (url: string) => {
    const response = await fetch(url);
    if (!response.ok) throw new Error(`${url}: ${response.status}`);
    return mono(await context.decodeAudioData(await response.arrayBuffer()));
  };
  const [original, enriched] = await Promise.all([decode(originalUrl), decode(enrichedUrl)]);
  const added = enriched.map((sample, i) => sample - (original[i] ?? 0));
  return { original, enriched, added, duration: enriched.length / RATE };
}

function mono(buffer: AudioBuffer): Float32Array {
  const out = new Float32Array(buffer.length);
  for (let c = 0; c < buffer.numberOfChannels; c++) {
    const channel = buffer.getChannelData(c);
    for (let i = 0; i < out.length; i++) out[i] += channel[i] / buffer.numberOfChannels;
  }
  return out;
}
