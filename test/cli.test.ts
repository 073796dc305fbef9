import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const tsx = path.resolve('node_modules/.bin/tsx');

/** Runs `npm run enrich` the way a person would, and returns what they would see. */
async function enrich(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(tsx, ['node_app/cli/enrich.ts', ...args], { timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('the command line', () => {
  it('says in one line that the input file does not exist, without a stack trace', async () => {
    const { code, stderr } = await enrich('no-such-song.mp3');
    expect(code).toBe(1);
    expect(stderr.trim()).toBe('Cannot read no-such-song.mp3: no such file.');
  });

  it('names a bad option or value and shows the usage, without a stack trace', async () => {
    const unknown = await enrich('song.mp3', '--loudness', '11');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^Unknown option '--loudness'/);
    expect(unknown.stderr).toContain('Usage: npm run enrich');
    expect(unknown.stderr).not.toMatch(/\n\s+at /);
    const amount = await enrich('song.mp3', '--amount', '7');
    expect(amount.stderr.trim()).toBe('INVALID_PARAMETER: amount: must be between 0 and 1');
  });
});
