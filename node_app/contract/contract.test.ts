import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  AppError,
  attachmentDisposition,
  downloadName,
  ERROR_CODES,
  ERROR_STATUS,
  errors,
  formatIntensity,
  intensityPoints,
  OUTPUT_FORMATS,
  parseIntensity,
  parseEnrichParams,
  parseStyleSpec,
  RANDOM_STYLE,
  recipeSchema,
  styleSpecOf,
} from './index.js';

const root = path.resolve(import.meta.dirname, '../..');
const KNOWN = ['rain', 'blues', 'vinyl'];

const failure = (run: () => unknown): AppError => {
  try {
    run();
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error('did not throw');
};

describe('the enrich form', () => {
  it('fills in the defaults and reads blank fields as not given', () => {
    expect(parseEnrichParams({})).toEqual({ amount: 0.5, format: 'wav' });
    expect(parseEnrichParams({ style: '', amount: ' ', seed: '', format: '' })).toEqual({ amount: 0.5, format: 'wav' });
    expect(parseEnrichParams({ style: 'rain', amount: '0.8', seed: '42', format: 'mp3', start: '1.5', end: '9' })).toEqual({
      style: 'rain',
      amount: 0.8,
      seed: 42,
      format: 'mp3',
      start: 1.5,
      end: 9,
    });
  });

  it('reads a format in any case, as it reads a style', () => {
    expect(parseEnrichParams({ format: ' MP3 ' })).toMatchObject({ format: 'mp3' });
  });

  it.each([
    [{ amount: '1.5' }, 'amount: must be between 0 and 1'],
    [{ amount: 'abc' }, 'amount: is not a number; it must be between 0 and 1'],
    [{ start: 'soon' }, 'start: is not a number; it must be a number of seconds from 0 to 86400'],
    [{ seed: '-3' }, 'seed: must be a whole number from 0 to 4294967295'],
    [{ seed: '4294967296' }, 'seed: must be a whole number from 0 to 4294967295'],
    [{ format: 'aiff' }, 'format: must be one of wav, mp3, flac, ogg'],
    [{ start: '3', end: '1' }, 'start: must be before end'],
    [{ start: '1e21' }, 'start: must be a number of seconds from 0 to 86400'],
    [{ end: '0' }, 'end: must be more than 0 seconds'],
    [{ end: '0.0000005' }, 'end: must be at least 0.1 s after start (0 when not given): a shorter section has too little audio to enrich'],
    [{ start: '2', end: '2.05' }, 'end: must be at least 0.1 s after start (0 when not given): a shorter section has too little audio to enrich'],
  ])('names the field and what is wrong with it: %j', (fields, message) => {
    const error = failure(() => parseEnrichParams(fields));
    expect([error.status, error.code, error.message]).toEqual([400, 'INVALID_PARAMETER', message]);
  });
});

describe('the style field', () => {
  it('reads one style, a mix normalised to sum to one, and random, whatever the case and spaces', () => {
    expect(parseStyleSpec(' Rain ', KNOWN)).toEqual({ random: false, weights: { rain: 1 } });
    expect(parseStyleSpec('rain:3, blues:1', KNOWN)).toEqual({ random: false, weights: { rain: 0.75, blues: 0.25 } });
    expect(parseStyleSpec('rain:0,blues:2', KNOWN)).toEqual({ random: false, weights: { blues: 1 } });
    expect(parseStyleSpec('RANDOM', KNOWN)).toEqual({ random: true });
  });

  it.each([
    ['thunder', 'UNKNOWN_STYLE'],
    ['rain:', 'BAD_STYLE_MIX'],
    ['rain;blues', 'BAD_STYLE_MIX'],
    ['rain:-1', 'BAD_STYLE_MIX'],
    ['rain,', 'BAD_STYLE_MIX'],
    ['rain,rain:2', 'BAD_STYLE_MIX'],
    ['rain:0,blues:0', 'BAD_STYLE_MIX'],
    ['rain:0.7,blues', 'BAD_STYLE_MIX'],
  ])('refuses %j with %s', (spec, code) => {
    expect(failure(() => parseStyleSpec(spec, KNOWN))).toMatchObject({ status: 400, code });
  });

  it('reads a mix without weights as equal shares, and refuses one with weights on some styles only', () => {
    expect(parseStyleSpec('rain,blues', KNOWN)).toEqual({ random: false, weights: { rain: 0.5, blues: 0.5 } });
    expect(failure(() => parseStyleSpec('rain:0.7,blues', KNOWN)).message).toBe(
      'Give every style in the mix a weight or none: "blues" has none. Write "rain:0.7,blues:0.3", or "rain,blues" for equal shares.',
    );
  });

  it('names the styles there are and the one an unknown id most likely meant', () => {
    const known = ['rain', 'thunderstorm', 'blues', 'vinyl'];
    expect(failure(() => parseStyleSpec('thunder', known)).message).toBe(
      'Unknown style "thunder". Did you mean "thunderstorm"? The styles are: rain, thunderstorm, blues, vinyl.',
    );
    expect(failure(() => parseStyleSpec('bleus', known)).message).toContain('Did you mean "blues"?');
    expect(failure(() => parseStyleSpec('opera', known)).message).toBe('Unknown style "opera". The styles are: rain, thunderstorm, blues, vinyl.');
  });

  it('writes weights back in the canonical form that reads back the same', () => {
    expect(styleSpecOf({ rain: 1 })).toBe('rain');
    expect(styleSpecOf({ rain: 0.7, blues: 0.3, vinyl: 0 })).toBe('rain:0.7,blues:0.3');
    const weights = { rain: 0.334, blues: 0.333, vinyl: 0.333 };
    expect(parseStyleSpec('rain:1,blues:1,vinyl:1', KNOWN)).toEqual({ random: false, weights });
    expect(parseStyleSpec(styleSpecOf(weights), KNOWN)).toEqual({ random: false, weights });
  });
});

describe('download names', () => {
  it('are <name>.<styles>.enriched.<ext>, keeping any script but nothing that names a path', () => {
    expect(downloadName('My Song.mp3', { rain: 0.7, blues: 0.3 }, 'flac')).toBe('My Song.rain+blues.enriched.flac');
    expect(downloadName('../../etc/pass"wd;.wav', { rain: 1 }, 'wav')).toBe('etc_pass_wd;.rain.enriched.wav');
    expect(downloadName('..mp3', { rain: 1 }, 'ogg')).toBe('audio.rain.enriched.ogg');
    expect(downloadName('Café – Ünïcode 🎵 song.mp3', { vinyl: 1 }, 'mp3')).toBe('Café – Ünïcode 🎵 song.vinyl.enriched.mp3');
    expect(downloadName('日本語の歌.mp3', { rain: 1 }, 'wav')).toBe('日本語の歌.rain.enriched.wav');
    expect(downloadName('a\u0000b\r\nc.wav', { rain: 1 }, 'wav')).toBe('a_b_c.rain.enriched.wav');
  });

  it('are sent with an ASCII filename for every client and the real one in filename* (RFC 6266)', () => {
    expect(attachmentDisposition('My Song.rain.enriched.wav')).toBe('attachment; filename="My Song.rain.enriched.wav"');
    expect(attachmentDisposition('日本語の歌.rain.enriched.wav')).toBe(
      `attachment; filename="_____.rain.enriched.wav"; filename*=UTF-8''%E6%97%A5%E6%9C%AC%E8%AA%9E%E3%81%AE%E6%AD%8C.rain.enriched.wav`,
    );
    const header = attachmentDisposition('Café (live).wav');
    expect(header).toContain(`filename*=UTF-8''Caf%C3%A9%20%28live%29.wav`);
    expect(decodeURIComponent(header.split("''")[1])).toBe('Café (live).wav');
  });
});

describe('recipes', () => {
  it('hold what repeats a job, and refuse what could not have come from one', () => {
    const recipe = { app: 'noise-enricher', version: 1, style: 'rain', amount: 0.5, seed: 7, format: 'ogg', start: 1, end: 2, input: 'a.mp3' };
    expect(recipeSchema.safeParse(recipe).success).toBe(true);
    expect(recipeSchema.safeParse({ ...recipe, app: 'other' }).success).toBe(false);
    expect(recipeSchema.safeParse({ ...recipe, seed: -1 }).success).toBe(false);
    expect(recipeSchema.safeParse({ ...recipe, start: 3 }).success).toBe(false);
    expect(recipeSchema.safeParse({ ...recipe, intensity: '0:0,10:1' }).success).toBe(true);
    expect(recipeSchema.safeParse({ ...recipe, intensity: '10:0,5:1' }).success).toBe(false);
  });
});

describe('the intensity curve', () => {
  it('keeps the numbers as sent, without spaces, and reads them as points', () => {
    expect(parseEnrichParams({ intensity: ' 0:0, 10 : 0,10.5:1,95:1,100:.3 ' })).toMatchObject({ intensity: '0:0,10:0,10.5:1,95:1,100:.3' });
    expect(intensityPoints('0:0,10:0,10.5:1,95:1,100:.3')).toEqual([[0, 0], [10, 0], [10.5, 1], [95, 1], [100, 0.3]]);
    expect(parseEnrichParams({ intensity: '' }).intensity).toBeUndefined();
    expect(parseEnrichParams({ intensity: '7:0.5' })).toMatchObject({ intensity: '7:0.5' });
  });

  it('draws a curve as text the field takes, to the millisecond and the thousandth', () => {
    const text = formatIntensity([[0, 0], [1.23456, 0.98765], [2, 1]]);
    expect(text).toBe('0:0,1.235:0.988,2:1');
    expect(parseIntensity(text)).toMatchObject({ points: [[0, 0], [1.235, 0.988], [2, 1]] });
  });

  it.each([
    ['1e3:1', 'point 1 ("1e3:1"): "1e3" is not a number of seconds'],
    ['0:0,86401:1', 'point 2 ("86401:1"): the time must be at most 86400 seconds'],
    ['0:0,0:1', 'point 2 ("0:1"): times must increase; 0 s does not come after 0 s'],
    ['0:0:1', 'point 1 ("0:0:1") must be seconds:value, such as 10.5:0.8'],
  ])('names the point that is wrong in %s', (text, problem) => {
    expect(parseIntensity(text)).toEqual({ problem });
    expect(failure(() => parseEnrichParams({ intensity: text })).message).toBe(`intensity: ${problem}`);
  });
});

describe('error codes', () => {
  const ARGUMENTS: { [K in keyof typeof errors]: Parameters<(typeof errors)[K]> } = {
    missingAudio: [],
    missingTexture: [],
    emptyFile: [],
    unexpectedFile: [],
    badUpload: ['LIMIT_FIELD_COUNT'],
    invalidParameter: ['amount', 'must be between 0 and 1'],
    unknownStyle: ['thunder', ['rain', 'thunderstorm'], 'thunderstorm'],
    badStyleMix: ['Style "rain" appears twice in the mix.'],
    badRequest: [],
    jobNotFound: [],
    notFound: ['GET', '/api/nothing'],
    methodNotAllowed: ['GET', '/api/enrich', ['POST']],
    uploadTimeout: ['stalled', 30],
    jobNotDone: ['running'],
    jobFailed: [],
    fileTooLarge: [50 * 1024 * 1024],
    tooLong: [600],
    notAudio: [],
    unsupportedFormat: ['an HLS playlist'],
    noAudio: [],
    undecodable: [],
    decodeTimeout: [],
    batchFileCount: [1, 2, 20],
    batchTooLarge: [400 * 1024 * 1024],
    batchNotFound: [],
    batchNotDone: [3],
    rateLimited: [12],
    cancelled: [],
    enrichFailed: [],
    encodeFailed: [],
    internal: [],
    busy: ['The server is busy with other songs. Try again in a minute.', 30],
    modelsLoading: [],
    modelsUnavailable: [],
    shuttingDown: [],
    decoderFailed: [],
    ffmpegUnavailable: [],
    encodeTimeout: [],
    storageUnavailable: [],
    diskFull: [],
  };
  /** Every factory, called with plausible arguments. */
  const made = Object.entries(ARGUMENTS).map(([name, args]) => (errors[name as keyof typeof errors] as (...a: unknown[]) => AppError)(...args));

  it('have one factory each, and each factory answers with its code’s status', () => {
    expect(made.map((e) => e.code).sort()).toEqual([...ERROR_CODES].sort());
    for (const error of made) expect(error.status, error.code).toBe(ERROR_STATUS[error.code]);
  });

  it('tell a client when to come back on every 503 and 507', () => {
    for (const error of made.filter((e) => e.status === 503 || e.status === 507)) {
      expect(Number(error.headers['Retry-After']), error.code).toBeGreaterThan(0);
    }
  });

  it('are the ones docs/api.md lists, with the same statuses', () => {
    const doc = readFileSync(path.join(root, 'docs/api.md'), 'utf8');
    const table = doc.slice(doc.indexOf('## Errors'), doc.indexOf('## Security headers'));
    const rows = [...table.matchAll(/^\| (\d{3}) \| `([A-Z_]+)` \|/gm)].map(([, status, code]) => [code, Number(status)]);
    expect(Object.fromEntries(rows)).toEqual(ERROR_STATUS);
    expect(rows).toHaveLength(ERROR_CODES.length);
  });
});

/** Every source file of the product, the contract itself and tests aside. */
function productSources(): Array<{ file: string; text: string }> {
  const found: Array<{ file: string; text: string }> = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (/\.tsx?$/.test(entry.name) && !/\.test\.tsx?$/.test(entry.name)) found.push({ file: path.relative(root, full), text: readFileSync(full, 'utf8') });
    }
  };
  for (const dir of ['node_app/server', 'node_app/cli', 'node_app/engine', 'node_app/web/src']) walk(path.join(root, dir));
  return found;
}

describe('the contract is written once', () => {
  const sources = productSources();
  const quoted = (words: readonly string[]) => new RegExp(`(['"\`])(${words.join('|')})\\1`, 'g');

  it('finds the product sources it checks', () => {
    expect(sources.length).toBeGreaterThan(40);
  });

  it('no other module writes an error code as a string', () => {
    const offenders = sources.flatMap(({ file, text }) => [...text.matchAll(quoted(ERROR_CODES))].map((m) => `${file}: ${m[0]}`));
    expect(offenders).toEqual([]);
  });

  it('no other module lists the output formats', () => {
    // A list or union of two or more quoted formats and nothing else, e.g. ['wav', 'mp3'] or 'mp3' | 'ogg'.
    const list = /(['"])[a-z0-9]+\1(?:\s*[,|]\s*(['"])[a-z0-9]+\2)+/g;
    const offenders = sources.flatMap(({ file, text }) =>
      [...text.matchAll(list)]
        .map((m) => m[0])
        .filter((run) => run.match(/[a-z0-9]+/g)!.every((word) => (OUTPUT_FORMATS as readonly string[]).includes(word)))
        .map((run) => `${file}: ${run}`),
    );
    expect(offenders).toEqual([]);
  });

  it('no other module writes a URL of the API or of a page', () => {
    const offenders = sources.filter(({ text }) => /['"`]\/api\/|['"`]\/r\//.test(text)).map(({ file }) => file);
    expect(offenders).toEqual([]);
  });

  it('no other module parses or writes the style field', () => {
    const offenders = sources
      .filter(({ text }) => new RegExp(`['"]${RANDOM_STYLE}['"]`).test(text) || /split\(\s*['"]:['"]\s*\)/.test(text) || text.includes('[a-z0-9-]+'))
      .map(({ file }) => file);
    expect(offenders).toEqual([]);
  });
});
