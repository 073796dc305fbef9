import { ErrorCode } from '../../../contract';
import { watchJob, type Style } from '../api';
import { ErrorPage } from '../components/ErrorPanel';
import type { Settings } from '../lib/settings';
import { useWatched } from '../lib/watched';
import { Result } from './Result';
import { Working } from './Working';

interface Props {
  id: string;
  styles: readonly Style[];
  onHome: () => void;
  onReuse: (settings: Settings) => void;
}

/** A job's page (`PAGE_PATHS.job`, the share link): the working page while the job runs, then its result; a reload or a shared link lands here. */
export function JobPage({ id, styles, onHome, onReuse }: Props) {
  const { value: job, gone, setValue: setJob } = useWatched(id, watchJob);

  const again = (
    <button type="button" onClick={onHome}>
      Enrich another file
    </button>
  );
  if (gone)
    return (
      <ErrorPage title="Result not found" code={gone.code} message={gone.message}>
        {again}
      </ErrorPage>
    );
  if (!job) return <p role="status">Loading…</p>;
  if (job.status === 'failed') {
    const error = job.error ?? { code: ErrorCode.ENRICH_FAILED, message: 'The job failed.' };
    return (
      <ErrorPage title="Enrichment failed" code={error.code} message={error.message}>
        {again}
      </ErrorPage>
    );
  }
  if (job.status === 'done') return <Result job={job} styles={styles} onHome={onHome} onReuse={onReuse} onFeedback={setJob} />;
  return <Working job={job} onCancelled={onHome} />;
}
