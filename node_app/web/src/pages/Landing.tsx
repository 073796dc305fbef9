import { useCallback, useEffect, useRef, useState, type FormEvent } from 'react';
import { ErrorCode, MATCH_LOUDNESS } from '../../../contract';
import { ApiError, createBatch, createJob, type Batch, type Job, type Limits, type Style, type UploadProgress } from '../api';
import { BeforeAfter } from '../components/BeforeAfter';
import { ErrorPanel } from '../components/ErrorPanel';
import { Examples } from '../components/Examples';
import { FilePicker } from '../components/FilePicker';
import { OwnSoundPicker } from '../components/OwnSoundPicker';
import { Preview, usePreviewWarmUp } from '../components/Preview';
import { ProPanel } from '../components/ProPanel';
import { Recorder } from '../components/Recorder';
import { StylePicker } from '../components/StylePicker';
import { checkAlbum, checkSource, probeAudio, type AudioProbe } from '../lib/check';
import { errorTitle } from '../lib/errors';
import { formatBytes, formatDuration } from '../lib/format';
import { settingsToFields, type Settings } from '../lib/settings';
import type { AudioSource } from '../lib/source';
import { usePageTitle } from '../lib/title';

interface Props {
  styles: readonly Style[];
  /** The server's limits; null when they could not be read (then the server alone judges the file). */
  limits: Limits | null;
  settings: Settings;
  onSettings: (settings: Settings) => void;
  /** The chosen audio, kept by the app so that an error, a cancelled job or a look at the FAQ does not lose it. */
  source: AudioSource | null;
  onSource: (source: AudioSource) => void;
  /** Several files chosen at once, kept by the app as `source` is; null when one file (or none) is chosen. */
  album: readonly AudioSource[] | null;
  onAlbum: (album: AudioSource[]) => void;
  onStarted: (job: Job) => void;
  onAlbumStarted: (batch: Batch) => void;
}

/** Choose the audio, choose the styles, press Enrich. */
export function Landing({ styles, limits, settings, onSettings, source, onSource, album, onAlbum, onStarted, onAlbumStarted }: Props) {
  usePageTitle(null);
  // Keyed by the source it describes, so a new file is never judged, for a render, by the last one's probe.
  const [probed, setProbed] = useState<{ source: AudioSource; probe: AudioProbe } | null>(null);
  const [preview, setPreview] = useState<string | null>(null);
  const [upload, setUpload] = useState<UploadProgress | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [proOpen, setProOpen] = useState(false);
  const [sectionRequests, setSectionRequests] = useState(0);
  const [texture, setTexture] = useState<AudioSource | null>(null);
  // The preview's seed: sent with Enrich when none is set, so the result is what the preview let you hear ("Surprise
  // me" still draws a new mix on every Enrich).
  const [previewSeed, setPreviewSeed] = useState<number | undefined>(undefined);
  const onPreviewSeed = useCallback((seed: number) => setPreviewSeed(seed), []);
  // A mix with the style "own" sends the person's own recording with the song.
  const ownStyle = styles.find((s) => s.needsTexture);
  const wantsTexture = ownStyle !== undefined && !settings.surprise && (settings.mix[ownStyle.id] ?? 0) > 0;
  const missingTexture = wantsTexture && texture === null;
  const uploading = useRef<AbortController | null>(null);
  const sending = upload !== null;

  useEffect(() => () => uploading.current?.abort(), []);
  const warmPreview = usePreviewWarmUp(settings);

  // Only the header is read, so probing again when the page comes back with the same file costs nothing.
  useEffect(() => {
    if (!source) return;
    let current = true;
    const url = URL.createObjectURL(source.blob);
    setPreview(url);
    void probeAudio(source.blob).then((probe) => current && setProbed({ source, probe }));
    return () => {
      current = false;
      URL.revokeObjectURL(url);
    };
  }, [source]);

  const choose = (next: AudioSource) => {
    setError(null);
    setNotice(null);
    onSource(next);
    // A section chosen on another file means nothing for this one.
    onSettings({ ...settings, start: undefined, end: undefined });
  };
  const chooseAlbum = (next: AudioSource[]) => {
    setError(null);
    setNotice(null);
    onAlbum(next);
    // Every song is enriched whole: a section of one file means nothing for the others.
    onSettings({ ...settings, start: undefined, end: undefined });
  };
  const albumProblem = album && limits ? checkAlbum(album.map((file) => ({ name: file.name, bytes: file.blob.size })), limits) : null;
  // An album is levelled with one gain to a number of LUFS; matching each song to its own original is for single files.
  const albumBlocked = album !== null && (wantsTexture || settings.loudness === MATCH_LOUDNESS);
  const albumBytes = album?.reduce((sum, file) => sum + file.blob.size, 0) ?? 0;

  const probe = probed && probed.source === source ? probed.probe : null;
  const probing = source !== null && probe === null;
  const duration = probe?.duration ?? null;
  // Judged once the probe is in, so the panel appears once, under a summary of the file that no longer changes.
  const problem =
    source && limits && probe
      ? checkSource({ name: source.name, bytes: source.blob.size, duration, audio: probe.audio, start: settings.start, end: settings.end }, limits)
      : null;

  async function enrich(chosen: AudioSource) {
    await uploadWith(chosen.blob.size, async (signal) =>
      onStarted(
        await createJob(chosen.blob, chosen.name, settingsToFields({ ...settings, seed: settings.seed ?? (chosen === source && !settings.surprise ? previewSeed : undefined) }), {
          onProgress: setUpload,
          signal,
          texture: wantsTexture && texture ? texture : undefined,
        }),
      ),
    );
  }

  async function enrichAlbum(files: readonly AudioSource[]) {
    await uploadWith(albumBytes, async (signal) => onAlbumStarted(await createBatch(files, settingsToFields(settings), { onProgress: setUpload, signal })));
  }

  /** Runs an upload with its progress shown and its Cancel button wired; a failure is shown above the bar. */
  async function uploadWith(total: number, work: (signal: AbortSignal) => Promise<void>) {
    const controller = new AbortController();
    uploading.current = controller;
    setUpload({ sent: 0, total });
    setError(null);
    setNotice(null);
    try {
      await work(controller.signal);
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
    if (album) {
      if (!albumProblem && !albumBlocked) void enrichAlbum(album);
    } else if (source && !problem && !missingTexture && !probing) void enrich(source);
  };

  const pickSection = () => {
    if (!limits) return;
    onSettings({ ...settings, start: 0, end: limits.maxDurationSeconds });
    setProOpen(true);
    setSectionRequests((n) => n + 1);
  };

  // What the bar says when Enrich cannot be pressed: the problem itself, where the eye already is.
  const shown = (album ? albumProblem : problem) ?? error;
  const hint = album
    ? shown
      ? `${errorTitle(shown.code)}: see above.`
      : wantsTexture
        ? 'Your own sound is for one file at a time: choose another style for an album.'
        : settings.loudness === MATCH_LOUDNESS
          ? 'An album is levelled to one loudness for all its songs: choose a level, or "as made", in the Pro panel.'
          : (notice ?? `Ready: an album of ${album.length} files`)
    : !source
    ? 'Choose a file, record, or try an example first.'
    : probing
      ? `Checking ${source.name}…`
      : shown
        ? `${errorTitle(shown.code)}: see above.`
        : (notice ?? `Ready: ${source.name}`);
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
      <form onSubmit={submit} className="enrich-form" aria-label="Enrich your audio">
        <section aria-labelledby="source-title" className="card">
          <h2 id="source-title">1. Your audio</h2>
          {/* Reaching for a file is the moment to load the preview, not the page's first load. */}
          <div className="source-pickers" onPointerEnter={warmPreview} onFocus={warmPreview} onDragEnter={warmPreview} onTouchStart={warmPreview}>
            <FilePicker onChoose={choose} onChooseAlbum={chooseAlbum} />
            <Recorder onRecorded={choose} />
          </div>
          {source && preview && (
            <div className="chosen" aria-live="polite">
              <p>
                Chosen: <strong>{source.name}</strong> ({formatBytes(source.blob.size)}
                {duration !== null ? `, ${formatDuration(duration)}` : ''})
              </p>
              <audio controls src={preview} aria-label={`Play ${source.name}`} />
            </div>
          )}
          {album && (
            <div className="chosen album" aria-live="polite">
              <p>
                Album: <strong>{album.length} files</strong> ({formatBytes(albumBytes)}), each enriched with the same style and settings, then downloaded as one zip
              </p>
              <ol aria-label="The album's files">
                {album.map((file, index) => (
                  <li key={`${index}-${file.name}`}>
                    {file.name} ({formatBytes(file.blob.size)})
                  </li>
                ))}
              </ol>
            </div>
          )}
          {albumProblem && <ErrorPanel code={albumProblem.code} message={albumProblem.message} />}
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
          {source && !problem && <Preview source={source} settings={settings} onSeed={onPreviewSeed} texture={wantsTexture ? texture : null} />}
          <ProPanel
            styles={styles}
            settings={settings}
            source={source}
            duration={duration}
            open={proOpen}
            onOpen={setProOpen}
            sectionRequests={sectionRequests}
            onChange={onSettings}
          />
        </section>
        {/* Just above the bar that was pressed, not at the top of a long page. */}
        {error && (
          <ErrorPanel code={error.code} message={error.message}>
            <button type="button" onClick={() => setError(null)}>
              Try again
            </button>
          </ErrorPanel>
        )}
        <div className="actions">
          {sending ? (
            <div className="upload-status">
              <label className="upload-progress">
                <span role="status">
                  Uploading… {formatBytes(upload.sent)} of {formatBytes(upload.total)} ({percent} %)
                </span>
                <progress max={upload.total} value={upload.sent} />
              </label>
              <button type="button" onClick={() => uploading.current?.abort()}>
                Cancel upload
              </button>
            </div>
          ) : (
            <>
              <button
                type="submit"
                className="primary"
                disabled={album ? albumProblem !== null || albumBlocked : !source || problem !== null || missingTexture || probing}
                aria-describedby="enrich-hint"
              >
                {album ? `Enrich ${album.length} files` : 'Enrich'}
              </button>
              <p id="enrich-hint" className="hint">
                {missingTexture && source && !probing && !shown ? 'Choose or record your own sound first.' : hint}
              </p>
            </>
          )}
        </div>
      </form>
      <Examples busy={sending} onEnrich={(clip) => void enrich(clip)} />
    </>
  );
}
