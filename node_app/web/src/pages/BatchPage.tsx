import { useState } from 'react';
import { isFinished, STAGE_RULES } from '../../../contract';
import { ApiError, cancelBatch, watchBatch } from '../api';
import { ErrorPage } from '../components/ErrorPanel';
import { usePageTitle } from '../lib/title';
import { useWatched } from '../lib/watched';

/**
 * An album's page (`PAGE_PATHS.batch`): every song's progress and the album's as a whole, then one download of
 * the whole album as a zip. A reload lands here again; the songs go on whether the page is open or not.
 */
export function BatchPage({ id, onHome }: { id: string; onHome: () => void }) {
  const { value: batch, gone } = useWatched(id, watchBatch);
  const [cancelling, setCancelling] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);

  const percent = Math.round((batch?.progress ?? 0) * 100);
  usePageTitle(batch && !isFinished(batch.status) ? `${percent} % · Enriching an album` : null);

  const again = (
    <button type="button" onClick={onHome}>
      Enrich more files
    </button>
  );
  if (gone)
    return (
      <ErrorPage title="Album not found" code={gone.code} message={gone.message}>
        {again}
      </ErrorPage>
    );
  if (!batch) return <p role="status">Loading…</p>;

  const cancel = async () => {
    setCancelling(true);
    try {
      await cancelBatch(batch.id);
      onHome();
    } catch (error) {
      setProblem(error instanceof ApiError ? error.message : 'The album could not be cancelled.');
      setCancelling(false);
    }
  };

  const finished = isFinished(batch.status);
  const done = batch.jobs.filter((job) => job.status === 'done').length;
  return (
    <section className="working album" aria-labelledby="album-title">
      <h1 id="album-title">{finished ? `Your album: ${done} of ${batch.jobs.length} songs enriched` : `Enriching ${batch.jobs.length} songs`}</h1>
      {batch.loudness && (
        <p>
          Album loudness: {batch.loudness.after.integrated ?? '–'} LUFS (target {batch.loudness.target}), one gain of {batch.loudness.gainDb} dB for every song, so they keep
          their loudness relative to each other; true peak {batch.loudness.after.truePeak ?? '–'} dBTP.
        </p>
      )}
      <label className="progress">
        Album progress: {percent} %
        <progress max={100} value={percent} />
      </label>
      <ol className="album-songs" aria-label="Songs">
        {batch.jobs.map((job) => (
          <li key={job.id}>
            <span className="album-song-name">{job.name}</span>{' '}
            <span className="hint">{job.status === 'failed' ? `failed: ${job.error?.message ?? 'something went wrong'}` : STAGE_RULES[job.stage].label}</span>
            <progress max={100} value={Math.round(job.progress * 100)} aria-label={`${job.name}: ${Math.round(job.progress * 100)} %`} />
          </li>
        ))}
      </ol>
      {finished && batch.status === 'done' ? (
        <p>
          <a className="button primary" href={batch.links.download} download>
            Download the album (zip)
          </a>{' '}
          <span className="hint">Every result named after its file, with recipe.json and CREDITS.txt. Kept until {new Date(batch.expiresAt).toLocaleTimeString()}.</span>
        </p>
      ) : (
        !finished && <p className="hint">You can leave this page open or come back to this address later; the songs keep going.</p>
      )}
      {finished ? (
        again
      ) : (
        <button type="button" onClick={() => void cancel()} disabled={cancelling}>
          Cancel the album
        </button>
      )}
      {problem && <p role="alert">{problem}</p>}
    </section>
  );
}
