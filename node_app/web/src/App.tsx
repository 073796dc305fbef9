import { useEffect, useState, type FormEvent } from 'react';
import { ApiError, createJob, fetchStyles, watchJob, type Job, type Style } from './api';

export function App() {
  const [styles, setStyles] = useState<Style[]>([]);
  const [style, setStyle] = useState('');
  const [amount, setAmount] = useState(0.5);
  const [file, setFile] = useState<File | null>(null);
  const [job, setJob] = useState<Job | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    fetchStyles()
      .then(({ styles, defaultStyle }) => {
        setStyles(styles);
        setStyle(defaultStyle);
      })
      .catch((e: Error) => setError(e.message));
  }, []);

  useEffect(() => (job && job.status !== 'done' && job.status !== 'failed' ? watchJob(job.id, setJob) : undefined), [job?.id]);

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (!file) return;
    setError(null);
    setJob(null);
    try {
      setJob(await createJob(file, file.name, { style, amount }));
    } catch (e) {
      setError(e instanceof ApiError ? e.message : 'Could not reach the server.');
    }
  }

  const working = job !== null && job.status !== 'done' && job.status !== 'failed';
  return (
    <main>
      <h1>The Noise Enricher</h1>
      <p>The opposite of noise cancellation: your music, enriched with rain, thunder, blues or vinyl by a neural network.</p>
      <form onSubmit={submit}>
        <label>
          Audio file
          <input type="file" accept="audio/*,video/webm" onChange={(e) => setFile(e.target.files?.[0] ?? null)} />
        </label>
        <label>
          Style
          <select value={style} onChange={(e) => setStyle(e.target.value)}>
            {styles.map((s) => (
              <option key={s.id} value={s.id}>
                {s.label} — {s.description}
              </option>
            ))}
          </select>
        </label>
        <label>
          Amount {Math.round(amount * 100)} %
          <input type="range" min={0} max={1} step={0.05} value={amount} onChange={(e) => setAmount(Number(e.target.value))} />
        </label>
        <button type="submit" disabled={!file || working}>
          Enrich
        </button>
      </form>
      {working && (
        <p role="status">
          {job.stage}… <progress max={1} value={job.progress} aria-label="Progress" />
        </p>
      )}
      {(error || job?.error) && <p role="alert">{error ?? job?.error?.message}</p>}
      {job?.status === 'done' && (
        <section aria-label="Result">
          <audio controls src={job.links.result} />
          <a href={job.links.result} download>
            Download
          </a>
        </section>
      )}
    </main>
  );
}
