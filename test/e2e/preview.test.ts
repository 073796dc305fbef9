import { mkdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { encodeWav16 } from '../../node_app/engine/pcm.js';
import { fixtureDir, readWavBytes, type WavSummary } from '../helpers/audio.js';
import { useWebStack } from './browser.js';

const RATE = 44_100;
/** Where the song turns lively: the preview should pick the ten seconds from here. */
const LIVELY_FROM = 6;
/** Where the timings of the last run go (docs/performance.md). */
const TIMINGS_FILE = 'test-results/preview-timings.json';

const stack = useWebStack();
let song: string;

beforeAll(async () => {
  // Six quiet seconds of a steady tone, then ten of a louder one pulsing four times a second, in both channels.
  const frames = 16 * RATE;
  const channels = [new Float32Array(frames), new Float32Array(frames)];
  for (let i = 0; i < frames; i++) {
    const t = i / RATE;
    const lively = t >= LIVELY_FROM;
    const envelope = lively ? 0.5 * (0.5 + 0.5 * Math.cos(2 * Math.PI * 4 * t)) ** 4 : 0.05;
    channels[0][i] = envelope * Math.sin(2 * Math.PI * 220 * t);
    channels[1][i] = envelope * Math.sin(2 * Math.PI * 330 * t + 1);
  }
  song = path.join(await fixtureDir(), 'preview-song.wav');
  await writeFile(song, encodeWav16(channels, RATE));
}, 180_000);

interface PreviewAttributes {
  src: string;
  start: string;
  end: string;
  seed: string;
  style: string;
  amount: string;
  intensity: string;
}

async function attributesOf(preview: Locator): Promise<PreviewAttributes> {
  return preview.evaluate((el) => {
    const a = el as HTMLAudioElement;
    const d = a.dataset;
    return { src: a.src, start: d.start ?? '', end: d.end ?? '', seed: d.seed ?? '', style: d.style ?? '', amount: d.amount ?? '', intensity: d.intensity ?? '' };
  });
}

/** The preview's WAV, as the page plays it. */
async function previewWav(page: Page, src: string): Promise<WavSummary> {
  const base64 = await page.evaluate(async (url) => {
    const bytes = new Uint8Array(await (await fetch(url)).arrayBuffer());
    let text = '';
    for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    return btoa(text);
  }, src);
  return readWavBytes(Buffer.from(base64, 'base64'));
}

/** What `POST /api/enrich` answers for the same file, section, style, amount and seed. */
async function serverWav(attributes: PreviewAttributes, file = song, texture?: string): Promise<WavSummary> {
  const form = new FormData();
  form.set('audio', new Blob([await readFile(file)]), path.basename(file));
  if (texture) form.set('texture', new Blob([await readFile(texture)]), path.basename(texture));
  for (const field of ['start', 'end', 'seed', 'style', 'amount', 'intensity'] as const) form.set(field, attributes[field]);
  const response = await fetch(`${stack.base}/api/enrich`, { method: 'POST', body: form });
  expect(response.status).toBe(200);
  return readWavBytes(new Uint8Array(await response.arrayBuffer()));
}

/** The preview's difference from the server's output, in dB relative to the server's output. */
function residualDb(preview: WavSummary, server: WavSummary): number {
  expect(preview.channels).toBe(server.channels);
  expect(preview.sampleRate).toBe(server.sampleRate);
  expect(preview.frames).toBe(server.frames);
  let difference = 0;
  let signal = 0;
  for (let c = 0; c < server.channels; c++) {
    for (let i = 0; i < server.frames; i++) {
      difference += (preview.samples[c][i] - server.samples[c][i]) ** 2;
      signal += server.samples[c][i] ** 2;
    }
  }
  return 10 * Math.log10(difference / signal);
}

/** A step of the preview's work in wall-clock milliseconds, from the page (User Timing) or its worker. */
interface Span {
  name: string;
  start: number;
  end: number;
}

/**
 * Steps relative to `from` (negative: before it), in order: when each began and how long it took. Windows, and
 * the fetches and decodes of recordings, are summed into one line each.
 */
function steps(spans: Span[], from: number): Record<string, string> {
  const group = (name: string) => (name === 'window' ? 'windows' : name.startsWith('fetch ') ? 'fetches of recordings' : name.startsWith('decode ') ? 'decodes of recordings' : null);
  const lines: Record<string, string> = {};
  const groups = new Map<string, Span[]>();
  for (const span of [...spans].sort((a, b) => a.start - b.start)) {
    const named = group(span.name);
    const key = named && `${named}${span.end < from ? ' (before)' : ''}`;
    if (key) groups.set(key, [...(groups.get(key) ?? []), span]);
    else lines[span.name] = `at ${Math.round(span.start - from)} ms, ${Math.round(span.end - span.start)} ms`;
  }
  for (const [key, members] of groups) {
    const durations = members.map((m) => m.end - m.start);
    lines[`${members.length} ${key}`] =
      `from ${Math.round(members[0].start - from)} to ${Math.round(Math.max(...members.map((m) => m.end)) - from)} ms, ` +
      `${Math.round(durations.reduce((a, b) => a + b, 0))} ms in all, ${Math.round(Math.min(...durations))} to ${Math.round(Math.max(...durations))} ms each`;
  }
  return lines;
}

/** What {@link watchPreview} notes in the page: when the file was chosen, a style clicked, a new preview shown. */
interface PreviewWatch {
  previewEvents: Array<{ name: 'file chosen' | 'style clicked' | 'preview shown'; at: number }>;
}

/**
 * Notes, in the page itself and in wall-clock milliseconds, when the file input changes, a style is clicked and
 * the preview element gets a new `src`: the intervals a person waits, without the test's own polling in them.
 */
async function watchPreview(page: Page): Promise<void> {
  await page.evaluate(() => {
    const watch = window as unknown as PreviewWatch;
    watch.previewEvents = [];
    const note = (name: PreviewWatch['previewEvents'][number]['name']) => watch.previewEvents.push({ name, at: performance.timeOrigin + performance.now() });
    document.addEventListener('change', (e) => (e.target as Element).matches('input[type="file"]') && note('file chosen'), true);
    document.addEventListener('click', (e) => (e.target as Element).closest('.style-option') && note('style clicked'), true);
    let shown: string | null = null;
    new MutationObserver(() => {
      const src = document.querySelector('audio[data-testid="preview"]')?.getAttribute('src') ?? null;
      if (src && src !== shown) note('preview shown');
      shown = src;
    }).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['src'] });
  });
}

/** A desktop-sized page of the app with `file` chosen, and the preview's audio element once it is there. */
async function desktopPageWith(file: string, timeout: number) {
  const context = await stack.browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  await page.goto(stack.base);
  await page.getByLabel('Audio file').setInputFiles(file);
  const preview = page.locator('audio[data-testid="preview"]');
  await preview.waitFor({ state: 'attached', timeout });
  return { context, page, preview };
}

async function newPreview(preview: Locator, before: string): Promise<void> {
  await expect.poll(async () => (await attributesOf(preview)).src, { timeout: 60_000, interval: 50 }).not.toBe(before);
}

describe('the preview in Chromium', () => {
  it('plays the liveliest ten seconds enriched in the browser, equal to the server, without a request to enrich', { timeout: 180_000 }, async () => {
    const context = await stack.browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    // The worker's own account of each preview: the steps it took, in wall-clock time.
    const workerSpans: Span[][] = [];
    page.on('console', (message) => {
      const text = message.text();
      if (text.startsWith('preview timings ')) workerSpans.push(JSON.parse(text.slice('preview timings '.length)) as Span[]);
    });
    const enrichCalls: string[] = [];
    page.on('request', (request) => {
      if (/\/api\/(enrich|jobs)/.test(new URL(request.url()).pathname)) enrichCalls.push(`${request.method()} ${request.url()}`);
    });
    await page.goto(stack.base);
    await page.getByRole('button', { name: 'Enrich', exact: true }).waitFor();
    // Nothing of the preview loads with the page: only reaching for a file starts it.
    await page.waitForTimeout(1500);
    expect(await page.evaluate(() => performance.getEntriesByType('resource').map((r) => r.name).filter((n) => /\/models\/|\.wasm/.test(n)))).toEqual([]);
    // A person points at the picker and takes a few seconds to choose a file; meanwhile the preview warms up.
    const reachedAt = await page.evaluate(() => performance.now());
    await page.getByText('Choose an audio file').hover();
    const warmAfterMs = await page.waitForFunction(() => performance.getEntriesByName('preview warm')[0]?.startTime, undefined, { timeout: 120_000, polling: 100 });
    const isolated = await page.evaluate(() => crossOriginIsolated);
    await watchPreview(page);

    const loadBeforeFirst = os.loadavg()[0];
    await page.getByLabel('Audio file').setInputFiles(song);
    const preview = page.locator('audio[data-testid="preview"]');
    await preview.waitFor({ state: 'attached', timeout: 60_000 });

    const first = await attributesOf(preview);
    expect(first.src).toMatch(/^blob:/);
    expect(Number(first.start)).toBe(LIVELY_FROM);
    expect(Number(first.end)).toBe(LIVELY_FROM + 10);
    expect(first.style).toBe('rain');
    expect(Number(first.amount)).toBe(0.5);
    expect(Number.isInteger(Number(first.seed))).toBe(true);
    const firstDb = residualDb(await previewWav(page, first.src), await serverWav(first));
    expect(firstDb).toBeLessThanOrEqual(-40);

    // Playing from 4 s in, a new style makes a new preview that plays on from there.
    await preview.evaluate(async (el) => {
      const a = el as HTMLAudioElement;
      a.currentTime = 4;
      await a.play();
    });
    const loadBeforeStyle = os.loadavg()[0];
    await page.locator('.style-option', { hasText: /^Thunderstorm$/ }).click();
    await newPreview(preview, first.src);
    const second = await attributesOf(preview);
    expect(second).toMatchObject({ style: 'thunderstorm', seed: first.seed, start: first.start });
    await expect.poll(() => preview.evaluate((el) => !(el as HTMLAudioElement).paused && (el as HTMLAudioElement).currentTime >= 4)).toBe(true);
    const secondDb = residualDb(await previewWav(page, second.src), await serverWav(second));
    expect(secondDb).toBeLessThanOrEqual(-40);

    expect(enrichCalls).toEqual([]);
    const pageSpans = await page.evaluate(() =>
      performance.getEntriesByType('measure').map((m) => ({ name: m.name, start: performance.timeOrigin + m.startTime, end: performance.timeOrigin + m.startTime + m.duration })),
    );
    const seen = await page.evaluate(() => (window as unknown as PreviewWatch).previewEvents);
    const at = (name: string, nth = 0) => seen.filter((e) => e.name === name)[nth]?.at ?? NaN;
    const chosenAt = at('file chosen');
    const clickedAt = at('style clicked');
    const firstMs = Math.round(at('preview shown') - chosenAt);
    const styleMs = Math.round(at('preview shown', 1) - clickedAt);
    expect([firstMs, styleMs].every(Number.isFinite)).toBe(true);
    const record = {
      measuredAt: new Date().toISOString(),
      cpus: os.cpus().length,
      crossOriginIsolated: isolated,
      warmUpDoneMsAfterReaching: Math.round(Number(await warmAfterMs.jsonValue()) - reachedAt),
      first: { ms: firstMs, loadAverage: loadBeforeFirst, steps: steps([...pageSpans, ...(workerSpans[0] ?? [])], chosenAt) },
      styleChange: { ms: styleMs, loadAverage: loadBeforeStyle, steps: steps(workerSpans[1] ?? [], clickedAt) },
      residualDb: { rain: firstDb, thunderstorm: secondDb },
    };
    await mkdir('test-results', { recursive: true });
    await writeFile(TIMINGS_FILE, `${JSON.stringify(record, null, 2)}\n`);
    console.log(
      `preview: first ready ${firstMs} ms after the file was chosen (load average ${loadBeforeFirst.toFixed(2)}), a new style ${styleMs} ms ` +
        `after the click (load average ${loadBeforeStyle.toFixed(2)}); residual against the server ${firstDb.toFixed(1)} dB (rain), ` +
        `${secondDb.toFixed(1)} dB (thunderstorm)\n${JSON.stringify(record.first.steps, null, 1)}\n${JSON.stringify(record.styleChange.steps, null, 1)}`,
    );

    // Enrich sends the seed that was heard, so the result is the preview's sound.
    const [created] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/api/jobs') && r.request().method() === 'POST'),
      page.getByRole('button', { name: 'Enrich', exact: true }).click(),
    ]);
    const job = (await created.json()) as { id: string };
    const view = (await (await fetch(`${stack.base}/api/jobs/${job.id}`)).json()) as { params: { seed: number } };
    expect(String(view.params.seed)).toBe(first.seed);
    await context.close();
  });

  it('draws an intensity curve over the waveform that the preview follows, by the song\'s clock, as the server does', { timeout: 240_000 }, async () => {
    const { context, page, preview } = await desktopPageWith(song, 60_000);
    await page.getByText('Pro: mix, seed, format, section').click();
    await page.getByLabel('Shape the intensity over time').check();
    const curve = page.getByLabel('Curve (seconds:intensity)');
    await expect.poll(() => curve.inputValue()).toBe('0:1,16:1');

    // A click on the curve's area adds a point there; dragging the new point to the floor makes the curve dip.
    const area = page.locator('.intensity-area');
    const box = (await area.boundingBox())!;
    await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
    await expect.poll(() => curve.inputValue()).toMatch(/^0:1,(7\.\d+|8|8\.\d+):0\.5\d*,16:1$/);
    const added = page.getByRole('slider', { name: /^Point 2 at/ });
    const dot = (await added.boundingBox())!;
    await page.mouse.move(dot.x + dot.width / 2, dot.y + dot.height / 2);
    await page.mouse.down();
    await page.mouse.move(dot.x + dot.width / 2, box.y + box.height + 30, { steps: 5 });
    await page.mouse.up();
    await expect.poll(async () => (await added.getAttribute('aria-valuenow')) ?? '').toBe('0');
    await added.dblclick();
    await expect.poll(() => curve.inputValue()).toBe('0:1,16:1');

    // Typed: dry until 9 s of the song, which is 3 s into the preview's section (6–16 s), then the whole amount.
    await curve.fill('0:0,9:0,9.5:1');
    // The curve's earlier shapes may each have made a preview on the way; this one is the typed curve's.
    await expect.poll(async () => (await attributesOf(preview)).intensity, { timeout: 60_000, interval: 50 }).toBe('0:0,9:0,9.5:1');
    const shaped = await attributesOf(preview);
    expect(shaped).toMatchObject({ intensity: '0:0,9:0,9.5:1', start: String(LIVELY_FROM) });
    const heard = await previewWav(page, shaped.src);
    const input = readWavBytes(await readFile(song));
    let dryWorst = 0;
    for (let c = 0; c < heard.channels; c++) for (let i = 0; i < 3 * RATE; i++) dryWorst = Math.max(dryWorst, Math.abs(heard.samples[c][i] - input.samples[c][LIVELY_FROM * RATE + i]));
    expect(dryWorst).toBeLessThanOrEqual(1);
    const shapedDb = residualDb(heard, await serverWav(shaped));
    expect(shapedDb).toBeLessThanOrEqual(-40);
    console.log(`preview with an intensity curve: residual against the server ${shapedDb.toFixed(1)} dB`);
    await context.close();
  });

  it('mixes a six-channel file to stereo as the server does', { timeout: 180_000 }, async () => {
    // Ten seconds of a different tone in each channel of a WAV that does not name its speakers: ffmpeg takes it
    // for 5.1, so the fourth channel (the LFE) is left out and the others are weighted by where they sit.
    const frames = 10 * RATE;
    const channels = Array.from({ length: 6 }, (_, c) => Float32Array.from({ length: frames }, (_, i) => 0.12 * Math.sin((2 * Math.PI * 110 * (c + 1) * i) / RATE)));
    const surround = path.join(await fixtureDir(), 'preview-surround.wav');
    await writeFile(surround, encodeWav16(channels, RATE));
    const { context, page, preview } = await desktopPageWith(surround, 120_000);
    const attributes = await attributesOf(preview);
    expect(attributes).toMatchObject({ start: '0', end: '10' });
    const heard = await previewWav(page, attributes.src);
    expect(heard.channels).toBe(2);
    const surroundDb = residualDb(heard, await serverWav(attributes, surround));
    expect(surroundDb).toBeLessThanOrEqual(-40);
    console.log(`preview of a six-channel file: residual against the server ${surroundDb.toFixed(1)} dB`);
    await context.close();
  });

  it('plays the style "own" with the recording chosen for it, as the server does', { timeout: 180_000 }, async () => {
    // Five seconds of a buzzing hum with a knock every 1.3 s: a bed and some events of the user's own.
    const frames = 5 * RATE;
    const hum = Float32Array.from({ length: frames }, (_, i) => {
      const knock = (i % Math.round(1.3 * RATE)) / RATE;
      return 0.1 * Math.sin((2 * Math.PI * 150 * i) / RATE) * Math.sin((2 * Math.PI * 0.7 * i) / RATE) + (knock < 0.05 ? 0.6 * Math.exp(-knock * 80) * Math.sin(2 * Math.PI * 900 * knock) : 0);
    });
    const texture = path.join(await fixtureDir(), 'preview-own-sound.wav');
    await writeFile(texture, encodeWav16([hum], RATE));
    const context = await stack.browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    await page.goto(stack.base);
    await page.getByLabel('Audio file').setInputFiles(song);
    await page.getByRole('radio', { name: /^Your own sound/ }).click();
    await page.getByLabel('Choose a recording').setInputFiles(texture);
    const preview = page.locator('audio[data-testid="preview"]');
    await expect.poll(async () => (await preview.count()) > 0 && (await attributesOf(preview)).style, { timeout: 120_000, interval: 100 }).toBe('own');
    const attributes = await attributesOf(preview);
    const ownDb = residualDb(await previewWav(page, attributes.src), await serverWav(attributes, song, texture));
    expect(ownDb).toBeLessThanOrEqual(-40);
    console.log(`preview with the style "own": residual against the server ${ownDb.toFixed(1)} dB`);
    await context.close();
  });

  it('says it is not available where WebAssembly is missing, and Enrich works as before (360 px)', { timeout: 120_000 }, async () => {
    const context = await stack.browser.newContext({ viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true });
    await context.addInitScript(() => {
      Reflect.deleteProperty(globalThis, 'WebAssembly');
    });
    const page = await context.newPage();
    const previewAssets: string[] = [];
    page.on('request', (request) => {
      if (/\.(wasm|onnx|flac)$|preview\.worker/.test(request.url())) previewAssets.push(request.url());
    });
    await page.goto(stack.base);
    await page.getByLabel('Audio file').setInputFiles(song);
    await page.getByText('The preview is not available here').waitFor({ timeout: 30_000 });
    expect(await page.locator('audio[data-testid="preview"]').count()).toBe(0);
    expect(previewAssets).toEqual([]);
    await page.getByRole('button', { name: 'Enrich', exact: true }).click();
    await page.waitForURL(/\/r\/[A-Za-z0-9_-]+$/, { timeout: 30_000 });
    await context.close();
  });
});
