// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { useState } from 'react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Batch, Limits, Style } from '../api';
import type { Mix } from '../lib/mix';
import type { AudioSource } from '../lib/source';
import { defaultSettings, type Settings } from '../lib/settings';
import { About } from '../pages/About';
import { BatchPage } from '../pages/BatchPage';
import { Faq } from '../pages/Faq';
import { Landing } from '../pages/Landing';
import { Result } from '../pages/Result';
import { Working } from '../pages/Working';
import { jobViewSchema } from '../../../contract';
import { MixSliders } from './MixSliders';

const STYLES: Style[] = [
  { id: 'rain', label: 'Rain', kind: 'nature', description: 'Rain on the roof.' },
  { id: 'blues', label: 'Blues', kind: 'genre', description: 'A shuffle.' },
  { id: 'vinyl', label: 'Vinyl crackle', kind: 'texture', description: 'Crackle.' },
  { id: 'own', label: 'Your own sound', kind: 'texture', description: 'Your recording.', needsTexture: true },
];

// jsdom's audio element never loads metadata, so only the first bytes judge a file here; the browser tests
// cover the real probe.
vi.mock('../lib/check', async (importOriginal) => {
  const check = await importOriginal<typeof import('../lib/check')>();
  return { ...check, probeAudio: async (blob: Blob) => ({ duration: null, audio: await check.looksLikeAudio(blob) }) };
});

const LIMITS: Limits = { maxUploadBytes: 1024 * 1024, maxDurationSeconds: 600, maxBatchBytes: 4 * 1024 * 1024, maxBatchFiles: 20 };

/** Stands in for the browser's XMLHttpRequest: records what is sent and lets the test answer or report progress. */
class FakeXhr {
  static last: FakeXhr | null = null;
  readonly upload = new EventTarget();
  private readonly events = new EventTarget();
  status = 0;
  responseText = '';
  body: FormData | null = null;
  url = '';
  aborted = false;
  constructor() {
    FakeXhr.last = this;
  }
  addEventListener(type: string, listener: () => void) {
    this.events.addEventListener(type, listener);
  }
  open(_method: string, url: string) {
    this.url = url;
  }
  setRequestHeader() {}
  send(body: FormData) {
    this.body = body;
  }
  abort() {
    this.aborted = true;
    this.events.dispatchEvent(new Event('abort'));
  }
  progress(loaded: number, total: number) {
    this.upload.dispatchEvent(Object.assign(new Event('progress'), { loaded, total, lengthComputable: true }));
  }
  respond(status: number, body: unknown) {
    this.status = status;
    this.responseText = JSON.stringify(body);
    this.events.dispatchEvent(new Event('load'));
  }
}

// jsdom's Blob has no arrayBuffer(), which every browser the app supports has.
Blob.prototype.arrayBuffer ??= function (this: Blob) {
  return new Promise<ArrayBuffer>((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result as ArrayBuffer);
    reader.onerror = () => reject(reader.error);
    reader.readAsArrayBuffer(this);
  });
};

beforeEach(() => {
  FakeXhr.last = null;
  vi.stubGlobal('XMLHttpRequest', FakeXhr);
  URL.createObjectURL = vi.fn(() => 'blob:preview');
  URL.revokeObjectURL = vi.fn();
});
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

function StatefulSliders() {
  const [mix, setMix] = useState<Mix>({ rain: 100 });
  return <MixSliders styles={STYLES} mix={mix} onChange={setMix} />;
}

describe('MixSliders', () => {
  it('keeps the only style at 100 % when its slider is set to 0', () => {
    render(<StatefulSliders />);
    fireEvent.change(screen.getByRole('slider', { name: /Rain/ }), { target: { value: '0' } });
    expect(screen.getByText('Rain: 100 %')).toBeTruthy();
    expect(screen.getByText('Blues: 0 %')).toBeTruthy();
  });

  it('rebalances the other sliders so the mix always shows 100 %', () => {
    render(<StatefulSliders />);
    fireEvent.change(screen.getByRole('slider', { name: /Blues/ }), { target: { value: '30' } });
    expect(screen.getByText('Rain: 70 %')).toBeTruthy();
    expect(screen.getByText('Blues: 30 %')).toBeTruthy();
    fireEvent.change(screen.getByRole('slider', { name: /Vinyl crackle/ }), { target: { value: '50' } });
    expect(screen.getByText('Rain: 35 %')).toBeTruthy();
    expect(screen.getByText('Blues: 15 %')).toBeTruthy();
    expect(screen.getByText(/^Total: 100 %/)).toBeTruthy();
  });
});

/** The landing page as the app holds it; `shown` false stands for another page (a job, the FAQ) in its place. */
function StatefulLanding({ onStarted, onAlbumStarted = () => undefined, shown = true }: { onStarted: () => void; onAlbumStarted?: (batch: Batch) => void; shown?: boolean }) {
  const [settings, setSettings] = useState<Settings>(defaultSettings('rain'));
  const [source, setSource] = useState<AudioSource | null>(null);
  const [album, setAlbum] = useState<AudioSource[] | null>(null);
  if (!shown) return null;
  return (
    <Landing
      styles={STYLES}
      limits={LIMITS}
      settings={settings}
      onSettings={setSettings}
      source={source}
      onSource={(next) => {
        setSource(next);
        setAlbum(null);
      }}
      album={album}
      onAlbum={(next) => {
        setAlbum(next);
        setSource(null);
      }}
      onStarted={onStarted}
      onAlbumStarted={onAlbumStarted}
    />
  );
}

const mp3Bytes = (size: number) => {
  const bytes = new Uint8Array(size);
  bytes.set([0x49, 0x44, 0x33, 4]);
  return bytes;
};

describe('Landing', () => {
  const chooseFile = (file: File) => fireEvent.change(screen.getByLabelText('Audio file'), { target: { files: [file] } });
  const enrichButton = () => screen.getByRole('button', { name: 'Enrich' }) as HTMLButtonElement;

  it("shows the API's headline and message when the upload is refused, and sends the chosen style", async () => {
    const message = 'The audio is longer than 600 seconds. Cut a section with start/end or upload a shorter file.';
    const onStarted = vi.fn();
    render(<StatefulLanding onStarted={onStarted} />);

    expect(enrichButton().disabled).toBe(true);
    chooseFile(new File(['RIFF'], 'song.wav', { type: 'audio/wav' }));
    fireEvent.click(screen.getByRole('radio', { name: /^Blues/ }));
    await waitFor(() => expect(enrichButton().disabled).toBe(false));
    fireEvent.click(enrichButton());
    FakeXhr.last!.respond(413, { error: { code: 'TOO_LONG', message } });

    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('This recording is too long');
    expect(alert.textContent).toContain(message);
    expect(onStarted).not.toHaveBeenCalled();
    expect(FakeXhr.last!.body!.get('style')).toBe('blues');
    await waitFor(() => expect(document.activeElement?.textContent).toBe('This recording is too long'));
  });

  it('sends a section with keep=whole when the whole file is asked back', async () => {
    render(<StatefulLanding onStarted={vi.fn()} />);
    chooseFile(new File(['RIFF'], 'song.wav', { type: 'audio/wav' }));
    fireEvent.change(screen.getByLabelText('Start (seconds)'), { target: { value: '30' } });
    fireEvent.change(screen.getByLabelText('End (seconds)'), { target: { value: '45' } });
    fireEvent.click(screen.getByLabelText('Give back the whole file, enriched only in this section'));
    await waitFor(() => expect(enrichButton().disabled).toBe(false));
    fireEvent.click(enrichButton());
    const sent = FakeXhr.last!.body!;
    expect([sent.get('start'), sent.get('end'), sent.get('keep')]).toEqual(['30', '45', 'whole']);
  });

  it('asks for your own sound when the style is "own", and sends it as texture', async () => {
    render(<StatefulLanding onStarted={vi.fn()} />);
    chooseFile(new File(['RIFF'], 'song.wav', { type: 'audio/wav' }));
    fireEvent.click(screen.getByRole('radio', { name: /^Your own sound/ }));
    await waitFor(() => expect(screen.getByText('Choose or record your own sound first.')).toBeTruthy());
    expect(enrichButton().disabled).toBe(true);
    fireEvent.change(screen.getByLabelText('Choose a recording'), { target: { files: [new File(['OggS'], 'kettle.ogg', { type: 'audio/ogg' })] } });
    await waitFor(() => expect(enrichButton().disabled).toBe(false));
    fireEvent.click(enrichButton());
    const sent = FakeXhr.last!.body!;
    expect(sent.get('style')).toBe('own');
    expect((sent.get('texture') as File).name).toBe('kettle.ogg');
  });

  it('sends the loudness chosen in the Pro panel: a platform level, the original, or none as made', async () => {
    render(<StatefulLanding onStarted={vi.fn()} />);
    chooseFile(new File(['RIFF'], 'song.wav', { type: 'audio/wav' }));
    const loudness = screen.getByLabelText('Loudness');
    const sent = async (choice: string) => {
      fireEvent.change(loudness, { target: { value: choice } });
      await waitFor(() => expect(enrichButton().disabled).toBe(false));
      fireEvent.click(enrichButton());
      const body = FakeXhr.last!.body!;
      FakeXhr.last!.respond(400, { error: { code: 'INVALID_PARAMETER', message: 'stop here' } });
      await screen.findByRole('alert');
      return body.get('loudness');
    };
    expect(await sent('-14')).toBe('-14');
    expect(await sent('match')).toBe('match');
    expect(await sent('')).toBeNull();
  });

  it('draws an intensity curve whose points the keyboard moves, adds and removes, and sends it with Enrich', async () => {
    render(<StatefulLanding onStarted={vi.fn()} />);
    chooseFile(new File(['RIFF'], 'song.wav', { type: 'audio/wav' }));
    fireEvent.click(await screen.findByLabelText('Shape the intensity over time'));
    const curve = () => (screen.getByLabelText('Curve (seconds:intensity)') as HTMLInputElement).value;
    expect(curve()).toBe('0:1,10:1');
    const first = screen.getByRole('slider', { name: 'Point 1 at 0 s' });
    for (let i = 0; i < 2; i++) fireEvent.keyDown(first, { key: 'ArrowDown' });
    expect(curve()).toBe('0:0.9,10:1');
    fireEvent.click(screen.getByRole('button', { name: 'Add a point' }));
    expect(curve()).toBe('0:0.9,5:0.95,10:1');
    fireEvent.keyDown(screen.getByRole('slider', { name: 'Point 2 at 5 s' }), { key: 'ArrowRight' });
    expect(screen.getByRole('slider', { name: 'Point 2 at 5.1 s' }).getAttribute('aria-valuetext')).toBe('95 % at 5.1 s');
    fireEvent.keyDown(screen.getByRole('slider', { name: 'Point 3 at 10 s' }), { key: 'Delete' });
    expect(curve()).toBe('0:0.9,5.1:0.95');
    fireEvent.change(screen.getByLabelText('Curve (seconds:intensity)'), { target: { value: '0:0, 2:3' } });
    expect((await screen.findByRole('alert')).textContent).toBe('The curve\'s point 2 ("2:3"): the value must be from 0 to 1.');
    fireEvent.change(screen.getByLabelText('Curve (seconds:intensity)'), { target: { value: '0:0, 2:1' } });
    expect(curve()).toBe('0:0, 2:1');
    await waitFor(() => expect(enrichButton().disabled).toBe(false));
    fireEvent.click(enrichButton());
    expect(FakeXhr.last!.body!.get('intensity')).toBe('0:0,2:1');
  });

  it('shows how much has been uploaded and cancels the upload', async () => {
    render(<StatefulLanding onStarted={vi.fn()} />);
    chooseFile(new File([mp3Bytes(200_000)], 'song.mp3', { type: 'audio/mpeg' }));
    await waitFor(() => expect(enrichButton().disabled).toBe(false));
    fireEvent.click(enrichButton());
    FakeXhr.last!.progress(50_000, 200_000);
    expect((await screen.findByText(/Uploading… 49 KB of 195 KB \(25 %\)/)).textContent).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Cancel upload' }));
    expect(FakeXhr.last!.aborted).toBe(true);
    expect(await screen.findByText(/Upload cancelled/)).toBeTruthy();
    expect(enrichButton().disabled).toBe(false);
  });

  it('keeps the chosen file when the page is left and come back to, after an error or a cancelled job', async () => {
    const { rerender } = render(<StatefulLanding onStarted={vi.fn()} />);
    chooseFile(new File([mp3Bytes(2048)], 'song.mp3', { type: 'audio/mpeg' }));
    await waitFor(() => expect(enrichButton().disabled).toBe(false));
    rerender(<StatefulLanding onStarted={vi.fn()} shown={false} />);
    rerender(<StatefulLanding onStarted={vi.fn()} />);
    expect(screen.getByText('song.mp3')).toBeTruthy();
    expect(screen.getByText(/\(2 KB\)/)).toBeTruthy();
    await waitFor(() => expect(enrichButton().disabled).toBe(false));
  });

  it('refuses a text file named .mp3 before uploading it, and says why in the Enrich bar', async () => {
    render(<StatefulLanding onStarted={vi.fn()} />);
    chooseFile(new File(['Shopping list: milk, eggs, coffee'], 'notes.mp3', { type: 'audio/mpeg' }));
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('This is not an audio file we can read');
    expect(screen.getByText(/\(33 bytes\)/)).toBeTruthy();
    expect(enrichButton().disabled).toBe(true);
    expect(document.getElementById('enrich-hint')?.textContent).toBe('This is not an audio file we can read: see above.');
    expect(FakeXhr.last).toBeNull();
  });

  it('refuses an empty file or one over the limit before uploading anything', async () => {
    render(<StatefulLanding onStarted={vi.fn()} />);
    chooseFile(new File([], 'empty.wav', { type: 'audio/wav' }));
    expect((await screen.findByRole('alert')).textContent).toContain('This file is empty');
    expect(enrichButton().disabled).toBe(true);
    chooseFile(new File([mp3Bytes(LIMITS.maxUploadBytes + 1)], 'huge.wav', { type: 'audio/wav' }));
    expect((await screen.findByRole('alert')).textContent).toContain('This file is too large');
    expect(enrichButton().disabled).toBe(true);
    expect(FakeXhr.last).toBeNull();
  });

  it('lets "Surprise me" draw a new mix on every Enrich: it sends no seed unless the person set one', async () => {
    render(<StatefulLanding onStarted={vi.fn()} />);
    fireEvent.click(screen.getByRole('button', { name: 'Surprise me' }));
    chooseFile(new File(['RIFF'], 'song.wav', { type: 'audio/wav' }));
    await waitFor(() => expect(enrichButton().disabled).toBe(false));
    fireEvent.click(enrichButton());
    expect(FakeXhr.last!.body!.get('style')).toBe('random');
    expect(FakeXhr.last!.body!.has('seed')).toBe(false);
  });
});

describe('Faq', () => {
  it("states this server's limits, as GET /api/limits gives them, not numbers of its own", () => {
    const { rerender } = render(<Faq limits={null} />);
    const answer = () => screen.getByRole('heading', { name: 'How large or long can a file be?' }).nextElementSibling!.textContent;
    expect(answer()).not.toMatch(/\d+ MB/);
    rerender(<Faq limits={{ maxUploadBytes: 25 * 1024 * 1024, maxDurationSeconds: 300, maxBatchBytes: 100 * 1024 * 1024, maxBatchFiles: 20 }} />);
    expect(answer()).toContain('Up to 25 MB and 5:00 (minutes:seconds)');
  });
});

describe('About', () => {
  it('credits the recording of every style that plays one, with its licence, and only those', () => {
    const styles: Style[] = [{ ...STYLES[0], credit: 'rain_11.ogg from 0 A.D. (Wildfire Games), CC BY-SA 3.0', license: 'CC-BY-SA-3.0' }, STYLES[1]];
    render(<About styles={styles} />);
    const credits = screen.getByRole('region', { name: 'Recordings' });
    expect(credits.textContent).toContain('Rain: rain_11.ogg from 0 A.D. (Wildfire Games), CC BY-SA 3.0 (CC-BY-SA-3.0)');
    expect(screen.getByRole('link', { name: 'CC-BY-SA-3.0' }).getAttribute('href')).toBe('https://spdx.org/licenses/CC-BY-SA-3.0.html');
    expect(credits.textContent).not.toContain('Blues');
  });
});

describe('Result', () => {
  it('shows the loudness before and after, and the target it was levelled to', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => new Response('{}', { status: 404 })));
    render(<Result job={doneJob()} styles={STYLES} onHome={vi.fn()} onReuse={vi.fn()} onFeedback={vi.fn()} />);
    expect(screen.getByText('Loudness').nextElementSibling?.textContent).toBe(
      '-18.0 LUFS, true peak -6.5 dBTP in the original, -14.0 LUFS, true peak -1.5 dBTP in the result (target -14 LUFS)',
    );
  });
});

describe('Working', () => {
  it('keeps looking at the peaks on its own clock, with no new event from the job, and after a failed look', async () => {
    const peaks = (done: number) => ({ secondsPerPeak: 0.1, expectedPeaks: 4, complete: done === 4, input: [0.5, 0.5, 0.5, 0.5], result: Array(done).fill(0.4) });
    const answers = [new Response('{}', { status: 503 }), Response.json(peaks(1)), Response.json(peaks(4))];
    const fetch = vi.fn(async () => answers.shift() ?? Response.json(peaks(4)));
    vi.stubGlobal('fetch', fetch);
    const running = { ...doneJob(), status: 'running' as const, stage: 'enriching' as const, progress: 0.5 };
    render(<Working job={running} onCancelled={vi.fn()} />);
    await waitFor(() => expect(screen.getByText(/Your audio, coloured/)).toBeTruthy(), { timeout: 5000 });
    // A complete picture ends the looking.
    await waitFor(() => expect(fetch).toHaveBeenCalledTimes(3), { timeout: 5000 });
    await new Promise((resolve) => setTimeout(resolve, 2000));
    expect(fetch).toHaveBeenCalledTimes(3);
    expect(fetch).toHaveBeenCalledWith('/api/jobs/x/peaks', undefined);
  }, 15_000);
});

/** A finished job with a loudness target, as the API describes it. */
function doneJob() {
  return jobViewSchema.parse({
    id: '0123456789abcdef0123456789abcdef',
    status: 'done',
    stage: 'done',
    progress: 1,
    params: { style: 'rain', weights: { rain: 1 }, amount: 0.5, seed: 1, format: 'wav', loudness: -14 },
    input: { name: 'song.wav' },
    output: {
      sampleRate: 44100,
      channels: 2,
      durationSeconds: 8,
      loudness: { target: -14, gainDb: 3.2, input: { integrated: -18.04, truePeak: -6.5 }, result: { integrated: -14.02, truePeak: -1.46 } },
    },
    createdAt: new Date().toISOString(),
    expiresAt: new Date(Date.now() + 60_000).toISOString(),
    links: { self: '', events: '', result: '', input: '', original: '', listening: '', peaks: '/api/jobs/x/peaks', recipe: '', share: '/r/x' },
  });
}

describe('Result downloads', () => {
  it('offers the added layer alone, in the chosen format', () => {
    vi.stubGlobal('fetch', vi.fn(async () => new Response('{}', { status: 404 })));
    render(<Result job={doneJob()} styles={STYLES} onHome={vi.fn()} onReuse={vi.fn()} onFeedback={vi.fn()} />);
    fireEvent.change(screen.getByLabelText('Format'), { target: { value: 'flac' } });
    expect(screen.getByRole('link', { name: 'Download the added layer' }).getAttribute('href')).toBe(`/api/jobs/${doneJob().id}/result?format=flac&part=layer`);
    expect(screen.getByRole('link', { name: 'Download' }).getAttribute('href')).toBe(`/api/jobs/${doneJob().id}/result?format=flac`);
  });
});

describe('Album mode', () => {
  const batchOf = (status: 'running' | 'done', progress: number): Batch => ({
    id: 'b'.repeat(32),
    status,
    progress,
    params: { style: 'rain', weights: { rain: 1 }, amount: 0.5, seed: 7, format: 'wav' },
    jobs: [
      { id: 'b'.repeat(32), name: 'one.mp3', status: 'done', stage: 'done', progress: 1, links: { self: '/api/jobs/b', result: '/api/jobs/b/result?format=wav' } },
      { id: 'c'.repeat(32), name: 'two.mp3', status, stage: status === 'done' ? 'done' : 'enriching', progress: status === 'done' ? 1 : 0.4, links: { self: '/api/jobs/c', result: '/api/jobs/c/result?format=wav' } },
    ],
    createdAt: new Date().toISOString(),
    expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
    links: { self: `/api/batches/${'b'.repeat(32)}`, download: `/api/batches/${'b'.repeat(32)}/download` },
  });

  it('takes several files at once as an album, lists them, and sends them all to POST /api/batches with the settings', async () => {
    const onAlbumStarted = vi.fn();
    render(<StatefulLanding onStarted={vi.fn()} onAlbumStarted={onAlbumStarted} />);
    const files = [new File([mp3Bytes(2000)], 'one.mp3', { type: 'audio/mpeg' }), new File([mp3Bytes(3000)], 'two.mp3', { type: 'audio/mpeg' })];
    fireEvent.change(screen.getByLabelText('Audio file'), { target: { files } });
    expect(screen.getByRole('list', { name: "The album's files" }).textContent).toContain('two.mp3');
    fireEvent.click(screen.getByRole('radio', { name: /^Blues/ }));
    const button = screen.getByRole('button', { name: 'Enrich 2 files' }) as HTMLButtonElement;
    expect(button.disabled).toBe(false);
    fireEvent.click(button);
    const xhr = FakeXhr.last!;
    expect(xhr.url).toBe('/api/batches');
    expect((xhr.body!.getAll('audio') as File[]).map((file) => file.name)).toEqual(['one.mp3', 'two.mp3']);
    expect(xhr.body!.get('style')).toBe('blues');
    const accepted = batchOf('running', 0.7);
    xhr.respond(202, accepted);
    await waitFor(() => expect(onAlbumStarted).toHaveBeenCalledWith(accepted));
  });

  it('takes several files dropped at once as an album', async () => {
    render(<StatefulLanding onStarted={vi.fn()} />);
    const files = [new File([mp3Bytes(2000)], 'a.mp3'), new File([mp3Bytes(2000)], 'b.mp3'), new File([mp3Bytes(2000)], 'c.mp3')];
    const zone = screen.getByText('Choose an audio file').closest('label')!;
    fireEvent.drop(zone, { dataTransfer: { files } });
    expect(screen.getByRole('list', { name: "The album's files" }).querySelectorAll('li')).toHaveLength(3);
    expect((screen.getByRole('button', { name: 'Enrich 3 files' }) as HTMLButtonElement).disabled).toBe(false);
  });

  it('refuses an album whose file is over the single upload limit before uploading, naming the file', async () => {
    render(<StatefulLanding onStarted={vi.fn()} />);
    const files = [new File([mp3Bytes(2000)], 'fine.mp3'), new File([mp3Bytes(LIMITS.maxUploadBytes + 1)], 'huge.wav')];
    fireEvent.change(screen.getByLabelText('Audio file'), { target: { files } });
    expect((await screen.findByRole('alert')).textContent).toContain('huge.wav is');
    expect((screen.getByRole('button', { name: 'Enrich 2 files' }) as HTMLButtonElement).disabled).toBe(true);
    expect(FakeXhr.last).toBeNull();
  });

  it("follows the album's songs and offers the one download once every song is done", async () => {
    const answers = [batchOf('running', 0.7), batchOf('done', 1)];
    const fetch = vi.fn(async () => new Response(JSON.stringify(answers.shift() ?? batchOf('done', 1)), { status: 200, headers: { 'Content-Type': 'application/json' } }));
    vi.stubGlobal('fetch', fetch);
    render(<BatchPage id={'b'.repeat(32)} onHome={vi.fn()} />);
    expect((await screen.findByRole('heading', { level: 1 })).textContent).toBe('Enriching 2 songs');
    expect(screen.getByText('Album progress: 70 %')).toBeTruthy();
    expect(screen.queryByRole('link', { name: 'Download the album (zip)' })).toBeNull();
    const link = (await screen.findByRole('link', { name: 'Download the album (zip)' }, { timeout: 5000 })) as HTMLAnchorElement;
    expect(link.getAttribute('href')).toBe(`/api/batches/${'b'.repeat(32)}/download`);
    expect(screen.getByRole('heading', { level: 1 }).textContent).toBe('Your album: 2 of 2 songs enriched');
    expect(fetch).toHaveBeenCalledWith(`/api/batches/${'b'.repeat(32)}`, undefined);
  });
});
