import { useEffect, useRef, useState, type FormEvent } from 'react';
import { ErrorCode } from '../../../contract';
import { ApiError, createJob, type Job, type Limits, type Style, type UploadProgress } from '../api';
import { BeforeAfter } from '../components/BeforeAfter';
import { ErrorPanel } from '../components/ErrorPanel';
import { Examples } from '../components/Examples';
import { FilePicker } from '../components/FilePicker';
import { OwnSoundPicker } from '../components/OwnSoundPicker';
import { ProPanel } from '../components/ProPanel';
import { Recorder } from '../components/Recorder';
import { StylePicker } from '../components/StylePicker';
import { checkSource, probeDuration } from '../lib/check';
import { settingsToFields, type Settings } from '../lib/settings';
import type { AudioSource } from '../lib/source';
import { usePageTitle } from '../lib/title';

interface Props {
  styles: readonly Style[];
  /** The server's limits; null when they could not be read (then the server alone judges the file). */
  limits: Limits | null;
  settings: Settings;
  onSettings: (settings: Settings) => void;
  onStarted: (job: Job) => void;
}

const megabytes = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);

/** Choose the audio, choose the styles, press Enrich. */
export function Landing({ styles, limits, settings, onSettings, onStarted }: Props) {
  usePageTitle(null);
  const [source, setSource] = useState<AudioSource | null>(null);
  const [duration, setDuration] = useState<number | null | 'probing'>(null);
  const [preview, setPreview] = useState<string | null>(null);
  const [upload, setUpload] = useState<UploadProgress | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [proOpen, setProOpen] = useState(false);
  const [texture, setTexture] = useState<AudioSource | null>(null);
  // A mix with the style "own" sends the person's own recording with the song.
  const ownStyle = styles.find((s) => s.needsTexture);
  const wantsTexture = ownStyle !== undefined && !settings.surprise && (settings.mix[ownStyle.id] ?? 0) > 0;
  const missingTexture = wantsTexture && texture === null;
  const uploading = useRef<AbortController | null>(null);
  const chosen = useRef<AudioSource | null>(null);
  const sending = upload !== null;

  useEffect(() => () => uploading.current?.abort(), []);

  const choose = (next: AudioSource) => {
    if (preview) URL.revokeObjectURL(preview);
    setSource(next);
    setPreview(URL.createObjectURL(next.blob));
    setError(null);
    setNotice(null);
    setDuration('probing');
    chosen.current = next;
    void probeDuration(next.blob).then((seconds) => {
      if (chosen.current === next) setDuration(seconds);
    });
    // A section chosen on another file means nothing for this one.
    onSettings({ ...settings, start: undefined, end: undefined });
  };

  const problem =
    source && limits
      ? checkSource({ bytes: source.blob.size, duration: typeof duration === 'number' ? duration : null, start: settings.start, end: settings.end }, limits)
      : null;

  async function enrich(chosen: AudioSource) {
    const controller = new AbortController();
    uploading.current = controller;
    setUpload({ sent: 0, total: chosen.blob.size });
    setError(null);
    setNotice(null);
    try {
      onStarted(
        await createJob(chosen.blob, chosen.name, settingsToFields(settings), {
          onProgress: setUpload,
          signal: controller.signal,
          texture: wantsTexture && texture ? texture : undefined,
        }),
      );
    } catch (e) {
      if (controller.signal.aborted) setNotice('Upload cancelled. Nothing was sent on to be enriched.');
      else setError(e instanceof ApiError ? e : new ApiError('NETWORK', 'The upload failed. Check your connection and try again.', 0));
    } finally {
      uploading.current = null;
      setUpload(null);
    }
  }

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (source && !problem && !missingTexture && duration !== 'probing') void enrich(source);
  };

  const pickSection = () => {
    if (!limits) return;
    onSettings({ ...settings, start: 0, end: limits.maxDurationSeconds });
    setProOpen(true);
  };

  const percent = upload && upload.total > 0 ? Math.round((upload.sent / upload.total) * 100) : 0;
  return (
    <>
      <section className="hero">
        <h1>The Noise Enricher</h1>
        <p className="lead">
          The opposite of noise cancellation: a neural network weaves rain, thunder, blues or vinyl into your music.
        </p>
        <BeforeAfter />
      </section>
      {error && (
        <ErrorPanel code={error.code} message={error.message}>
          <button type="button" onClick={() => setError(null)}>
            Try again
          </button>
        </ErrorPanel>
      )}
      <form onSubmit={submit} className="enrich-form" aria-label="Enrich your audio">
        <section aria-labelledby="source-title" className="card">
          <h2 id="source-title">1. Your audio</h2>
          <FilePicker onChoose={choose} />
          <Recorder onRecorded={choose} />
          {source && preview && (
            <div className="chosen" aria-live="polite">
              <p>
                Chosen: <strong>{source.name}</strong> ({(source.blob.size / 1024).toFixed(0)} KB
                {typeof duration === 'number' ? `, ${Math.floor(duration / 60)}:${String(Math.floor(duration % 60)).padStart(2, '0')}` : ''})
              </p>
              <audio controls src={preview} aria-label={`Play ${source.name}`} />
            </div>
          )}
          {problem && (
            <ErrorPanel code={problem.code} message={problem.message}>
              {problem.code === ErrorCode.TOO_LONG && settings.start === undefined && settings.end === undefined && (
                <button type="button" onClick={pickSection}>
                  Pick a section
                </button>
              )}
            </ErrorPanel>
          )}
        </section>
        <section aria-labelledby="style-title" className="card">
          <h2 id="style-title">2. Your style</h2>
          <StylePicker styles={styles} settings={settings} onChange={onSettings} />
          {wantsTexture && <OwnSoundPicker texture={texture} onChoose={setTexture} />}
          <ProPanel styles={styles} settings={settings} source={source} open={proOpen} onOpen={setProOpen} onChange={onSettings} />
        </section>
        <div className="actions">
          {sending ? (
            <div className="upload-status">
              <label className="upload-progress">
                <span role="status">
                  Uploading… {megabytes(upload.sent)} of {megabytes(upload.total)} MB ({percent} %)
                </span>
                <progress max={upload.total} value={upload.sent} />
              </label>
              <button type="button" onClick={() => uploading.current?.abort()}>
                Cancel upload
              </button>
            </div>
          ) : (
            <>
              <button type="submit" className="primary" disabled={!source || problem !== null || missingTexture || duration === 'probing'} aria-describedby="enrich-hint">
                Enrich
              </button>
              <p id="enrich-hint" className="hint">
                {!source
                  ? 'Choose a file, record, or try an example first.'
                  : problem
                    ? 'Fix the problem above first.'
                    : missingTexture
                      ? 'Choose or record your own sound first.'
                      : (notice ?? `Ready: ${source.name}`)}
              </p>
            </>
          )}
        </div>
      </form>
      <Examples busy={sending} onEnrich={(clip) => void enrich(clip)} />
    </>
  );
}
