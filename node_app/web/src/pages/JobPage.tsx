import { useEffect, useState } from 'react';
import { ErrorCode } from '../../../contract';
import { ApiError, watchJob, type Job, type Style } from '../api';
import { ErrorPanel } from '../components/ErrorPanel';
import type { Settings } from '../lib/settings';
import { PageTitle } from '../lib/title';
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
  const [job, setJob] = useState<Job | null>(null);
  const [gone, setGone] = useState<ApiError | null>(null);

  useEffect(() => {
    setJob(null);
    setGone(null);
    return watchJob(id, setJob, setGone);
  }, [id]);

  const again = (
    <button type="button" onClick={onHome}>
      Enrich another file
    </button>
  );
  if (gone)
    return (
      <>
        <PageTitle title="Result not found" />
        <ErrorPanel code={gone.code} message={gone.message}>
          {again}
        </ErrorPanel>
      </>
    );
  if (!job) return <p role="status">Loading…</p>;
  if (job.status === 'failed') {
    const error = job.error ?? { code: ErrorCode.ENRICH_FAILED, message: 'The job failed.' };
    return (
      <>
        <PageTitle title="Enrichment failed" />
        <ErrorPanel code={error.code} message={error.message}>
          {again}
        </ErrorPanel>
      </>
    );
  }
  if (job.status === 'done') return <Result job={job} styles={styles} onHome={onHome} onReuse={onReuse} onFeedback={setJob} />;
  return <Working job={job} onCancelled={onHome} />;
}
