/**
 * Writes the screenshots in docs/screenshots (landing, working, result at 360 and 1280 px) from the real app:
 * `npm run screenshots`. Not a test: pictures are for people to look at.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { makeClip } from '../helpers/audio.js';
import { startWebStack } from './browser.js';

const OUT = path.resolve('docs/screenshots');
const WIDTHS = [360, 1280] as const;

async function open(browser: Browser, width: number, url: string): Promise<Page> {
  const context = await browser.newContext(
    width === 360 ? { viewport: { width, height: 740 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true } : { viewport: { width, height: 900 } },
  );
  const page = await context.newPage();
  await page.goto(url);
  return page;
}

async function main(): Promise<void> {
  await mkdir(OUT, { recursive: true });
  const stack = await startWebStack();
  try {
    for (const width of WIDTHS) {
      const page = await open(stack.browser, width, stack.base);
      await page.getByRole('button', { name: 'Enrich', exact: true }).waitFor();
      // A full-page capture would strand the sticky Enrich bar mid-page: the phone shows its first screen, the
      // desktop a window as tall as the page, where the bar sits where it belongs.
      if (width !== 360) await page.setViewportSize({ width, height: await page.evaluate(() => document.documentElement.scrollHeight) });
      await page.screenshot({ path: path.join(OUT, `landing-${width}.png`) });
    }
    // Long enough that the job is still working while both widths are photographed.
    const clip = await makeClip({ seconds: 240, sampleRate: 44100, channels: 2, extension: 'wav' });
    const phone = await open(stack.browser, 360, stack.base);
    await phone.getByLabel('Audio file').setInputFiles(clip);
    await phone.getByRole('button', { name: 'Enrich', exact: true }).click();
    await phone.waitForURL(/\/r\//);
    const jobUrl = phone.url();
    const desktop = await open(stack.browser, 1280, jobUrl);
    for (const [width, page] of [[360, phone], [1280, desktop]] as const) {
      await page.getByText(/Progress: ([2-9]\d) %/).waitFor({ timeout: 120_000 });
      await page.locator('.waveform[data-state="ready"]').waitFor();
      await page.screenshot({ path: path.join(OUT, `working-${width}.png`), fullPage: true });
    }
    for (const [width, page] of [[360, phone], [1280, desktop]] as const) {
      await page.getByRole('heading', { name: 'Your enriched audio' }).waitFor({ timeout: 300_000 });
      await page.locator('[data-testid="player-enriched"][data-ready="true"]').waitFor({ timeout: 60_000 });
      await page.locator('[data-testid="player-original"][data-ready="true"]').waitFor({ timeout: 60_000 });
      await page.getByText('Spectrograms: see what was added').click();
      await page.locator('[data-testid="spectrograms"] figure[data-state="ready"]').nth(2).waitFor({ timeout: 120_000 });
      await page.screenshot({ path: path.join(OUT, `result-${width}.png`), fullPage: true });
    }
    console.log(`screenshots written to ${OUT}`);
  } finally {
    await stack.close();
  }
}

await main();
