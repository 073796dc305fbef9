import { useState, type FormEvent } from 'react';
import { ApiError, createJob, type Job, type Style } from '../api';
import { ErrorPanel } from '../components/ErrorPanel';
import { Examples } from '../components/Examples';
import { FilePicker } from '../components/FilePicker';
import { ProPanel } from '../components/ProPanel';
import { RecipeLoader } from '../components/RecipeLoader';
import { Recorder } from '../components/Recorder';
import { StylePicker } from '../components/StylePicker';
import { settingsToFields, type Settings } from '../lib/settings';
import type { AudioSource } from '../lib/source';
import { usePageTitle } from '../lib/title';

interface Props {
  styles: readonly Style[];
  settings: Settings;
  onSettings: (settings: Settings) => void;
  onStarted: (job: Job) => void;
}

/** Choose the audio, choose the styles, press Enrich. */
export function Landing({ styles, settings, onSettings, onStarted }: Props) {
  usePageTitle(null);
  const [source, setSource] = useState<AudioSource | null>(null);
  const [preview, setPreview] = useState<string | null>(null);
  const [sending, setSending] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);

  const choose = (next: AudioSource) => {
    if (preview) URL.revokeObjectURL(preview);
    setSource(next);
    setPreview(URL.createObjectURL(next.blob));
    setError(null);
    // A section chosen on another file means nothing for this one.
    onSettings({ ...settings, start: undefined, end: undefined });
  };

  async function enrich(chosen: AudioSource) {
    setSending(true);
    setError(null);
    try {
      onStarted(await createJob(chosen.blob, chosen.name, settingsToFields(settings)));
    } catch (e) {
      setError(e instanceof ApiError ? e : new ApiError('NETWORK', 'The upload failed. Check your connection and try again.', 0));
    } finally {
      setSending(false);
    }
  }

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (source) void enrich(source);
  };

  return (
    <>
      <section className="hero">
        <h1>The Noise Enricher</h1>
        <p className="lead">
          The opposite of noise cancellation: upload or record some music, pick a style — rain, thunder, blues, vinyl… — and a
          neural network weaves that sound into it, following its rhythm and dynamics.
        </p>
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
                Chosen: <strong>{source.name}</strong> ({(source.blob.size / 1024).toFixed(0)} KB)
              </p>
              <audio controls src={preview} aria-label={`Play ${source.name}`} />
            </div>
          )}
        </section>
        <section aria-labelledby="style-title" className="card">
          <h2 id="style-title">2. Your style</h2>
          <StylePicker styles={styles} settings={settings} onChange={onSettings} />
          <ProPanel styles={styles} settings={settings} source={source} onChange={onSettings} />
          <RecipeLoader knownStyles={styles.map((s) => s.id)} onLoad={onSettings} />
        </section>
        <div className="actions">
          <button type="submit" className="primary" disabled={!source || sending} aria-describedby={source ? undefined : 'enrich-hint'}>
            Enrich
          </button>
          {!source && (
            <p id="enrich-hint" className="hint">
              Choose a file, record, or try an example first.
            </p>
          )}
          {sending && <p role="status">Uploading…</p>}
        </div>
      </form>
      <Examples busy={sending} onEnrich={(clip) => void enrich(clip)} />
    </>
  );
}
