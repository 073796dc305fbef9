import { useEffect, useRef, useState } from 'react';
import type WaveSurfer from 'wavesurfer.js';
import { ApiError, cancelJob, inputUrl, type Job } from '../api';
import { Waveform } from '../components/Waveform';

const STAGES: Record<string, string> = {
  queued: 'Waiting for a free slot…',
  decoding: 'Reading your audio…',
  enriching: 'The network is adding the style…',
  encoding: 'Writing the result…',
};

/** Progress from the job's events, with the input's waveform filling in as the network works through it. */
export function Working({ job, onCancelled }: { job: Job; onCancelled: () => void }) {
  const [cancelling, setCancelling] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const wavesurfer = useRef<WaveSurfer | null>(null);
  const percent = Math.round(job.progress * 100);

  // The model works from the start of the audio to its end, so the coloured part is what is already enriched.
  const enriched = Math.min(1, Math.max(0, (job.progress - 0.1) / 0.85));
  const showProgress = (ws: WaveSurfer) => ws.seekTo(sectionFraction(job, ws.getDuration(), enriched));
  useEffect(() => {
    if (wavesurfer.current) showProgress(wavesurfer.current);
  });

  const cancel = async () => {
    setCancelling(true);
    try {
      await cancelJob(job.id);
      onCancelled();
    } catch (error) {
      setProblem(error instanceof ApiError ? error.message : 'The job could not be cancelled.');
      setCancelling(false);
    }
  };

  return (
    <section className="working" aria-labelledby="working-title">
      <h1 id="working-title">Enriching {job.input.name}</h1>
      <p role="status">{STAGES[job.stage] ?? job.stage}</p>
      <label className="progress">
        Progress: {percent} %
        <progress max={100} value={percent} />
      </label>
      <Waveform source={inputUrl(job)} label="Your audio, coloured as it is enriched" interact={false} onReady={(ws) => {
          wavesurfer.current = ws;
          showProgress(ws);
        }} />
      <p className="hint">You can leave this page open or come back to this address later; the job keeps going.</p>
      <button type="button" onClick={() => void cancel()} disabled={cancelling}>
        Cancel
      </button>
      {problem && <p role="alert">{problem}</p>}
    </section>
  );
}

/** Where in the whole input the enriched part ends, when only a section is being enriched. */
function sectionFraction(job: Job, duration: number, enriched: number): number {
  if (!(duration > 0)) return enriched;
  const start = job.params.start ?? 0;
  const end = Math.min(job.params.end ?? duration, duration);
  return Math.min(1, (start + enriched * (end - start)) / duration);
}
