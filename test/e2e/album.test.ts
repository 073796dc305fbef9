import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixtureDir, makeClip } from '../helpers/audio.js';
import { openZip } from '../helpers/zip.js';
import { useWebStack } from './browser.js';

const stack = useWebStack();

describe('album mode in Chromium', () => {
  it('takes several files from the picker as an album, follows its songs and downloads one zip of them all', async () => {
    const one = await makeClip({ seconds: 2, sampleRate: 44100, channels: 2, extension: 'wav' });
    const two = await makeClip({ seconds: 1, sampleRate: 22050, channels: 1, extension: 'wav' });
    const context = await stack.browser.newContext({ acceptDownloads: true });
    const page = await context.newPage();
    await page.goto(stack.base);
    await page.getByLabel('Audio file').setInputFiles([
      { name: 'First song.wav', mimeType: 'audio/wav', buffer: await readFile(one) },
      { name: 'Second song.wav', mimeType: 'audio/wav', buffer: await readFile(two) },
    ]);
    const list = page.getByRole('list', { name: "The album's files" });
    expect(await list.getByRole('listitem').allTextContents()).toEqual([expect.stringMatching(/^First song\.wav \(/), expect.stringMatching(/^Second song\.wav \(/)]);
    await page.getByRole('button', { name: 'Enrich 2 files' }).click();

    await page.waitForURL(/\/a\/[0-9a-f]{32}$/, { timeout: 30_000 });
    const link = page.getByRole('link', { name: 'Download the album (zip)' });
    await link.waitFor({ timeout: 120_000 });
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Your album: 2 of 2 songs enriched');
    expect(await page.getByRole('list', { name: 'Songs' }).getByRole('listitem').count()).toBe(2);

    const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
    expect(download.suggestedFilename()).toMatch(/^album\..+\.enriched\.zip$/);
    const saved = path.join(await fixtureDir(), `browser-${download.suggestedFilename()}`);
    await download.saveAs(saved);
    const zip = await openZip(await readFile(saved));
    expect(zip.unzipTest).toContain('No errors detected');
    expect(zip.entries.map((entry) => entry.name)).toEqual(['recipe.json', 'CREDITS.txt', expect.stringMatching(/^First song\..+\.enriched\.wav$/), expect.stringMatching(/^Second song\..+\.enriched\.wav$/)]);

    // The album's address survives a reload, as a job's does.
    await page.reload();
    await page.getByRole('link', { name: 'Download the album (zip)' }).waitFor({ timeout: 30_000 });
    await context.close();
  });
});
