import { describe, expect, it } from 'vitest';
import { checkSource, looksLikeAudio } from './check';

const LIMITS = { maxUploadBytes: 50 * 1024 * 1024, maxDurationSeconds: 600, maxBatchBytes: 200 * 1024 * 1024, maxBatchFiles: 20 };
const facts = (bytes: number, duration: number | null, more: { name?: string; audio?: boolean; start?: number; end?: number } = {}) => ({
  name: 'song.wav',
  audio: true,
  bytes,
  duration,
  ...more,
});

describe('checking a file before upload', () => {
  it('refuses an empty file and one over the size limit', () => {
    expect(checkSource(facts(0, null), LIMITS)?.code).toBe('EMPTY_FILE');
    expect(checkSource(facts(93 * 1024 * 1024, 540), LIMITS)).toMatchObject({ code: 'FILE_TOO_LARGE', message: expect.stringContaining('93 MB') });
  });

  it('advises compressing only a file that is not compressed already', () => {
    expect(checkSource(facts(93 * 1024 * 1024, 540), LIMITS)?.message).toContain('save this one as mp3');
    const mp3 = checkSource(facts(93 * 1024 * 1024, 5400, { name: 'concert.MP3' }), LIMITS)?.message;
    expect(mp3).toBe('The file is 93 MB; the limit is 50 MB. Choose a shorter file, or cut the part you want with an audio editor.');
  });

  it('refuses what is not audio, and writes lengths past an hour as a player does', () => {
    expect(checkSource(facts(36, null, { name: 'notes.mp3', audio: false }), LIMITS)).toMatchObject({ code: 'NOT_AUDIO', message: expect.stringContaining('notes.mp3') });
    expect(checkSource(facts(1000, 7199), LIMITS)?.message).toContain('1:59:59 long; up to 10:00');
  });

  it('tells audio containers from text by their first bytes', async () => {
    const bytes = (...values: number[]) => new Blob([new Uint8Array(values)]);
    expect(await looksLikeAudio(new Blob(['ID3\u0004']))).toBe(true);
    expect(await looksLikeAudio(bytes(0xff, 0xfb, 0x90, 0x64))).toBe(true);
    expect(await looksLikeAudio(bytes(0, 0, 0, 0x20, 0x66, 0x74, 0x79, 0x70, 0x4d, 0x34, 0x41))).toBe(true);
    expect(await looksLikeAudio(new Blob(['#!AMR\n']))).toBe(true);
    expect(await looksLikeAudio(new Blob(['Shopping list: milk, eggs']))).toBe(false);
    expect(await looksLikeAudio(new Blob(['<html><body>definitely not a song</body></html>']))).toBe(false);
  });

  it('refuses a file too long to enrich whole, and accepts it once a short enough section is picked', () => {
    const long = facts(20 * 1024 * 1024, 22 * 60);
    expect(checkSource(long, LIMITS)).toMatchObject({ code: 'TOO_LONG', message: expect.stringContaining('22:00') });
    expect(checkSource({ ...long, start: 0, end: 600 }, LIMITS)).toBeNull();
    expect(checkSource({ ...long, start: 60 }, LIMITS)?.code).toBe('TOO_LONG');
    expect(checkSource({ ...long, start: 800 }, LIMITS)).toBeNull();
  });

  it('refuses a section that ends before it starts, is shorter than 0.1 s, or starts after the audio ends', () => {
    expect(checkSource({ ...facts(1000, 30), start: 10, end: 5 }, LIMITS)?.code).toBe('INVALID_SECTION');
    expect(checkSource({ ...facts(1000, 30), start: 10, end: 10.05 }, LIMITS)?.code).toBe('INVALID_SECTION');
    expect(checkSource({ ...facts(1000, 30), end: 0.0000005 }, LIMITS)?.code).toBe('INVALID_SECTION');
    expect(checkSource({ ...facts(1000, 30), start: 10, end: 10.1 }, LIMITS)).toBeNull();
    expect(checkSource({ ...facts(1000, 30), start: 31 }, LIMITS)?.code).toBe('INVALID_SECTION');
  });

  it('leaves the length to the server when the browser cannot tell it', () => {
    expect(checkSource({ ...facts(1000, null) }, LIMITS)).toBeNull();
  });
});
