import { describe, expect, it } from 'vitest';
import { checkSource } from './check';

const LIMITS = { maxUploadBytes: 50 * 1024 * 1024, maxDurationSeconds: 600 };

describe('checking a file before upload', () => {
  it('refuses an empty file and one over the size limit', () => {
    expect(checkSource({ bytes: 0, duration: null }, LIMITS)?.code).toBe('EMPTY_FILE');
    expect(checkSource({ bytes: 93 * 1024 * 1024, duration: 540 }, LIMITS)).toMatchObject({ code: 'FILE_TOO_LARGE', message: expect.stringContaining('93 MB') });
  });

  it('refuses a file too long to enrich whole, and accepts it once a short enough section is picked', () => {
    const long = { bytes: 20 * 1024 * 1024, duration: 22 * 60 };
    expect(checkSource(long, LIMITS)).toMatchObject({ code: 'TOO_LONG', message: expect.stringContaining('22:00') });
    expect(checkSource({ ...long, start: 0, end: 600 }, LIMITS)).toBeNull();
    expect(checkSource({ ...long, start: 60 }, LIMITS)?.code).toBe('TOO_LONG');
    expect(checkSource({ ...long, start: 800 }, LIMITS)).toBeNull();
  });

  it('refuses a section that ends before it starts, is shorter than 0.1 s, or starts after the audio ends', () => {
    expect(checkSource({ bytes: 1000, duration: 30, start: 10, end: 5 }, LIMITS)?.code).toBe('INVALID_SECTION');
    expect(checkSource({ bytes: 1000, duration: 30, start: 10, end: 10.05 }, LIMITS)?.code).toBe('INVALID_SECTION');
    expect(checkSource({ bytes: 1000, duration: 30, end: 0.0000005 }, LIMITS)?.code).toBe('INVALID_SECTION');
    expect(checkSource({ bytes: 1000, duration: 30, start: 10, end: 10.1 }, LIMITS)).toBeNull();
    expect(checkSource({ bytes: 1000, duration: 30, start: 31 }, LIMITS)?.code).toBe('INVALID_SECTION');
  });

  it('leaves the length to the server when the browser cannot tell it', () => {
    expect(checkSource({ bytes: 1000, duration: null }, LIMITS)).toBeNull();
  });
});
