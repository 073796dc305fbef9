import { useState } from 'react';
import { Waveform } from './Waveform';

/**
 * Spectrograms of the original and the enriched audio, drawn only when asked for: they need both files
 * downloaded and decoded in full, which the players no longer do.
 */
export function Spectrograms({ originalUrl, enrichedUrl }: { originalUrl: string; enrichedUrl: string }) {
  const [open, setOpen] = useState(false);
  return (
    <details className="spectrograms card" onToggle={(event) => setOpen(event.currentTarget.open)}>
      <summary>Spectrograms: see what was added</summary>
      <p className="hint">Low frequencies at the bottom, high at the top; what the style added shows as new colour in the enriched one. Both files are downloaded in full for this.</p>
      {open && (
        <div className="spectrogram-pair">
          <Waveform source={originalUrl} label="Original" height={40} spectrogram interact={false} />
          <Waveform source={enrichedUrl} label="Enriched" height={40} spectrogram interact={false} />
        </div>
      )}
    </details>
  );
}
