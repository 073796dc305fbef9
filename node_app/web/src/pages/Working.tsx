import { useEffect, useState } from 'react';
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
  const picture = peaks && peaks.input.length > 0 ? peaks : null;
  // Bar and picture tell one story: where a picture is drawn, the bar stands no further than it.
  const drawn = picture?.expectedPeaks ? progressAt('enriching', picture.result.length / picture.expectedPeaks) : 1;
  const percent = Math.round(Math.min(job.progress, drawn) * 100);
  usePageTitle(`${percent} % · Enriching ${job.input.name}`);

  // Looked at on each new stage at once, then every interval on its own clock, so the picture keeps growing
  // (and a look that failed is tried again) however often or rarely the job's events come.
  const { stage } = job;
  const link = job.links.peaks;
  useEffect(() => {
    if (stage === 'queued') return;
    let current = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const look = () => {
      fetchPeaks(link).then(
        (loaded) => {
          if (!current) return;
          setPeaks(loaded);
          if (!loaded.complete) timer = setTimeout(look, PEAKS_INTERVAL_MS);
        },
        () => current && (timer = setTimeout(look, PEAKS_INTERVAL_MS)),
      );
    };
    look();
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [link, stage]);

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
