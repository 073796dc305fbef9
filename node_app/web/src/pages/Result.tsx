import { useEffect, useMemo, useRef, useState } from 'react';
import { ApiError, fetchPeaks, listeningUrl, originalUrl, recipeUrl, resultUrl, sendFeedback, shareUrl, type Job, type JobPeaks, type OutputFormat, type Style } from '../api';
import { MATCH_LOUDNESS, type LoudnessReading } from '../../../contract';
import { ABPlayer } from '../components/ABPlayer';
import { Spectrograms } from '../components/Spectrograms';
import { FormatSelect } from '../components/FormatSelect';
import { formatDuration } from '../lib/format';
import { describeMix, toPercentages } from '../lib/mix';
import { settingsFromJob, type Settings } from '../lib/settings';
import { usePageTitle } from '../lib/title';

interface Props {
  job: Job;
  styles: readonly Style[];
  onHome: () => void;
  onReuse: (settings: Settings) => void;
  onFeedback: (job: Job) => void;
}

/** The finished job: compare, download, share, rate, and keep the recipe. */
export function Result({ job, styles, onHome, onReuse, onFeedback }: Props) {
  usePageTitle(`Enriched: ${job.input.name}`);
  const [format, setFormat] = useState<OutputFormat>(job.params.format);
  const [shareNotice, setShareNotice] = useState<string | null>(null);
  const [feedbackNotice, setFeedbackNotice] = useState<string | null>(null);
  const labelOf = (id: string) => styles.find((s) => s.id === id)?.label ?? id;
  const link = shareUrl(job);
  const expires = new Date(job.expiresAt);
  const [peaks, setPeaks] = useState<JobPeaks | 'none' | null>(null);
  useEffect(() => {
    let current = true;
    fetchPeaks(job.links.peaks).then(
      (loaded) => current && setPeaks(loaded),
      () => current && setPeaks('none'),
    );
    return () => {
      current = false;
    };
  }, [job.links.peaks]);
  const playerPeaks = useMemo(() => {
    if (peaks === null || peaks === 'none' || !job.output) return {};
    const duration = job.output.durationSeconds;
    // Both cover the same stretch of time: the original player plays the part of the input that was enriched.
    return { enriched: { levels: peaks.result, duration }, original: { levels: peaks.input, duration } };
  }, [peaks, job.output]);

  const linkField = useRef<HTMLInputElement>(null);
  const copy = async () => {
    setShareNotice(await copyLink(link, linkField.current));
  };
  const share = () => void navigator.share({ title: 'Enriched with The Noise Enricher', url: link }).catch(() => undefined);
  const [myRating, setMyRating] = useState(() => ratingGiven(job.id));
  const rate = async (rating: 'up' | 'down') => {
    try {
      onFeedback(await sendFeedback(job.id, rating));
      rememberRating(job.id, rating);
      setMyRating(rating);
      setFeedbackNotice('Thanks for the feedback.');
    } catch (error) {
      setFeedbackNotice(error instanceof ApiError ? error.message : 'The feedback could not be sent.');
    }
  };

  return (
    <article className="result" aria-labelledby="result-title">
      <h1 id="result-title">Your enriched audio</h1>
      <dl className="summary">
        <dt>File</dt>
        <dd>{job.input.name}</dd>
        <dt>Styles</dt>
        <dd>{describeMix(toPercentages(job.params.weights), labelOf)}</dd>
        <dt>Amount</dt>
        <dd>{Math.round(job.params.amount * 100)} %</dd>
        <dt>Seed</dt>
        <dd>{job.params.seed}</dd>
        {job.output && (
          <>
            <dt>Length</dt>
            <dd>
              {formatDuration(job.output.durationSeconds)}
              {sectionOf(job)}
            </dd>
          </>
        )}
        {job.output?.loudness && (
          <>
            <dt>Loudness</dt>
            <dd>
              {describeLevel(job.output.loudness.input)} in the original, {describeLevel(job.output.loudness.result)} in the result
              {job.params.loudness === MATCH_LOUDNESS ? ' (matched to the original)' : ` (target ${job.params.loudness} LUFS)`}
            </dd>
          </>
        )}
      </dl>

      {peaks === null ? (
        <p role="status">Loading the players…</p>
      ) : (
        <ABPlayer originalUrl={originalUrl(job)} enrichedUrl={listeningUrl(job)} peaks={playerPeaks} originalLabel={sectionOf(job) && job.params.keep !== 'whole' ? 'Original, the same section' : 'Original'} />
      )}
      <Spectrograms originalUrl={originalUrl(job)} enrichedUrl={resultUrl(job, 'wav')} />

      <section className="card" aria-labelledby="download-title">
        <h2 id="download-title">Download</h2>
        <div className="download-row">
          <FormatSelect label="Format" value={format} onChange={setFormat} />
          <a className="button primary" href={resultUrl(job, format)} download>
            Download
          </a>
          <a className="button" href={resultUrl(job, format, 'layer')} download>
            Download the added layer
          </a>
        </div>
        <p className="hint">The added layer is only what the style added, as long as your file and aligned with it: put it under your original to mix it yourself.</p>
      </section>

      <section className="card" aria-labelledby="share-title">
        <h2 id="share-title">Share</h2>
        <label>
          Share link
          <input ref={linkField} type="url" readOnly value={link} onFocus={(e) => e.target.select()} />
        </label>
        <div className="button-row">
          <button type="button" onClick={() => void copy()}>
            Copy link
          </button>
          {'share' in navigator && (
            <button type="button" onClick={share}>
              Share…
            </button>
          )}
        </div>
        {shareNotice && (
          <p role="status" className="notice">
            {shareNotice}
          </p>
        )}
        <p className="hint">
          The link works on any device until {expires.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })}; after that the files are deleted.
        </p>
      </section>

      <section className="card" aria-labelledby="feedback-title">
        <h2 id="feedback-title">Did it work?</h2>
        <div className="button-row">
          <button type="button" aria-pressed={myRating === 'up'} onClick={() => void rate('up')}>
            Sounds good
          </button>
          <button type="button" aria-pressed={myRating === 'down'} onClick={() => void rate('down')}>
            Not really
          </button>
        </div>
        {feedbackNotice && (
          <p role="status" className="notice">
            {feedbackNotice}
          </p>
        )}
      </section>

      <section className="card" aria-labelledby="recipe-title">
        <h2 id="recipe-title">Recipe</h2>
        <p>The styles, amount, seed and section of this result, to make it again.</p>
        <div className="button-row">
          <a className="button" href={recipeUrl(job)} download>
            Download recipe
          </a>
          <button type="button" onClick={() => onReuse(settingsFromJob(job))}>
            Enrich another file this way
          </button>
          <button type="button" onClick={onHome}>
            Start over
          </button>
        </div>
      </section>
    </article>
  );
}

/** Where the section that was enriched lies in the file, or nothing for the whole file. */
function sectionOf(job: Job): string {
  const { start, end, keep } = job.params;
  if (start === undefined && end === undefined) return '';
  const from = start ?? 0;
  if (keep === 'whole') return `, the whole file, enriched from ${formatDuration(from)}${end === undefined ? ' on' : ` to ${formatDuration(end)}`}`;
  const to = from + (job.output?.durationSeconds ?? 0);
  return `, the section ${formatDuration(from)}–${formatDuration(to)} of the file`;
}

/** A loudness reading in a person's words: "−14.0 LUFS, true peak −1.5 dBTP". */
function describeLevel(reading: LoudnessReading): string {
  const integrated = reading.integrated === null ? 'too quiet to measure' : `${reading.integrated.toFixed(1)} LUFS`;
  return reading.truePeak === null ? integrated : `${integrated}, true peak ${reading.truePeak.toFixed(1)} dBTP`;
}

/**
 * Copies the link, and says what happened. The Clipboard API exists only on https and localhost; a phone that
 * opened the page by the computer's address over plain http has none, so the link's own field is selected and
 * copied the old way, and if even that is refused it stays selected for the browser's own Copy.
 */
async function copyLink(link: string, field: HTMLInputElement | null): Promise<string> {
  try {
    if (!navigator.clipboard) throw new Error('no Clipboard API on plain http');
    await navigator.clipboard.writeText(link);
    return 'Link copied.';
  } catch {
    field?.focus();
    field?.select();
    // Deprecated, but the one way to copy on plain http, and still supported by every browser.
    const copied = typeof document.execCommand === 'function' && document.execCommand('copy');
    return copied ? 'Link copied.' : 'The link is selected: copy it with your browser’s Copy.';
  }
}

/**
 * The rating given in this browser. The job's own `feedback` is whoever rated last, which for someone opening
 * a shared link is the sender: shown as pressed, it would look like their own answer.
 */
function ratingGiven(id: string): 'up' | 'down' | null {
  try {
    const stored = window.localStorage.getItem(`rating:${id}`);
    return stored === 'up' || stored === 'down' ? stored : null;
  } catch {
    return null;
  }
}

function rememberRating(id: string, rating: 'up' | 'down'): void {
  try {
    window.localStorage.setItem(`rating:${id}`, rating);
  } catch {
    // Private modes may refuse storage; the button still shows the rating until the page is left.
  }
}
