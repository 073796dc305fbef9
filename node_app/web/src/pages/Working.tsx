import { useEffect, useRef, useState } from 'react';
import { progressAt } from '../../../contract';
import { ApiError, cancelJob, fetchPeaks, STAGE_RULES, type Job, type JobPeaks } from '../api';
import { PeaksPicture } from '../components/PeaksPicture';
import { usePageTitle } from '../lib/title';

/** Often enough to see the picture grow, rarely enough not to matter on a slow connection. */
const PEAKS_INTERVAL_MS = 1500;

/**
 * Progress from the job's events, with a waveform from the server's peaks filling in as the network works
 * through the audio; the input itself is never downloaded here.
 */
export function Working({ job, onCancelled }: { job: Job; onCancelled: () => void }) {
  const [cancelling, setCancelling] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const [peaks, setPeaks] = useState<JobPeaks | null>(null);
  const lastFetch = useRef(0);
  const lastStage = useRef(job.stage);
  const picture = peaks && peaks.input.length > 0 ? peaks : null;
  // Bar and picture tell one story: where a picture is drawn, the bar stands no further than it.
  const drawn = picture?.expectedPeaks ? progressAt('enriching', picture.result.length / picture.expectedPeaks) : 1;
  const percent = Math.round(Math.min(job.progress, drawn) * 100);
  usePageTitle(`${percent} % · Enriching ${job.input.name}`);

  useEffect(() => {
    if (job.stage === 'queued') return;
    // A new stage is looked at once: a short job is written in full before the next regular look.
    const wait = job.stage !== lastStage.current ? 0 : Math.max(0, lastFetch.current + PEAKS_INTERVAL_MS - Date.now());
    lastStage.current = job.stage;
    let current = true;
    const timer = setTimeout(() => {
      lastFetch.current = Date.now();
      fetchPeaks(job).then(
        (loaded) => current && setPeaks(loaded),
        () => undefined,
      );
    }, wait);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [job]);

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
      <p role="status">{job.notice ?? (job.ahead === undefined ? STAGE_RULES[job.stage].label : placeInLine(job.ahead))}</p>
      <label className="progress">
        Progress: {percent} %
        <progress max={100} value={percent} />
      </label>
      {/* Only once there are peaks to draw: a server that has none until the end (the distributed mode's
          workers) would leave an empty box under a caption promising colour. */}
      {picture && <PeaksPicture input={picture.input} result={picture.result} total={picture.expectedPeaks ?? 0} label="Your audio, coloured as it is enriched" />}
      <p className="hint">You can leave this page open or come back to this address later; the job keeps going.</p>
      <button type="button" onClick={() => void cancel()} disabled={cancelling}>
        Cancel
      </button>
      {problem && <p role="alert">{problem}</p>}
    </section>
  );
}

function placeInLine(ahead: number): string {
  if (ahead === 0) return 'Waiting for a free slot: your song is next in line.';
  return `Waiting for a free slot: ${ahead} ${ahead === 1 ? 'song is' : 'songs are'} ahead of yours.`;
}
