import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Logger } from '../../logger.js';
import { loadHeapTrim, startHeapTrimmer } from './heap-trimmer.js';

describe('startHeapTrimmer', () => {
  afterEach(() => vi.useRealTimers());

  /** A process whose CPU clock the test moves: `look(ms)` spends that much CPU time, then lets the next look come. */
  function fakeProcess() {
    vi.useFakeTimers();
    let micros = 0;
    const trim = vi.fn(() => true);
    const trimmer = startHeapTrimmer({ trim, cpuMicros: () => micros, intervalMs: 1_000, quietCpuMs: 30, workCpuMs: 300 });
    const look = async (cpuMs: number) => {
      micros += cpuMs * 1_000;
      await vi.advanceTimersByTimeAsync(1_000);
    };
    return { trim, trimmer, look };
  }

  it('trims once when the process goes quiet after work, not while it works and not again while idle', async () => {
    const { trim, trimmer, look } = fakeProcess();
    await look(0);
    expect(trim).not.toHaveBeenCalled(); // a fresh server has nothing to give back
    for (let second = 0; second < 5; second++) await look(900);
    expect(trim).not.toHaveBeenCalled();
    await look(5);
    expect(trim).toHaveBeenCalledTimes(1);
    for (let second = 0; second < 10; second++) await look(2);
    expect(trim).toHaveBeenCalledTimes(1);
    await look(500);
    await look(0);
    expect(trim).toHaveBeenCalledTimes(2);
    trimmer.stop();
  });

  it('leaves a little background work alone', async () => {
    const { trim, trimmer, look } = fakeProcess();
    for (let second = 0; second < 20; second++) await look(10); // a health check, a sweep: 200 ms in all
    expect(trim).not.toHaveBeenCalled();
    trimmer.stop();
  });

  it('says once that it cannot trim where no trim can be made, and sets no timer', () => {
    vi.useFakeTimers();
    const info = vi.fn();
    startHeapTrimmer({ trim: null, logger: { info } as unknown as Logger }).stop();
    expect(info).toHaveBeenCalledOnce();
    expect(info.mock.calls[0][0]).toMatch(/malloc_trim is not available/);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe.runIf(process.platform === 'linux')('loadHeapTrim on glibc', () => {
  it('gives back the free pages between blocks still in use', () => {
    const trim = loadHeapTrim();
    expect(trim).not.toBeNull();
    // glibc's own malloc and free, through the same library: 40 kB blocks land in the heap (under the mmap
    // threshold), and every tenth kept in use pins the freed ones between them, as the compilers' zones do.
    const koffi = createRequire(import.meta.url)('koffi') as typeof import('koffi');
    const libc = koffi.load('libc.so.6');
    const malloc = libc.func('void *malloc(size_t size)');
    const memset = libc.func('void *memset(void *s, int c, size_t n)');
    const free = libc.func('void free(void *ptr)');
    const blocks = Array.from({ length: 2_500 }, () => {
      const block: unknown = malloc(40_000);
      memset(block, 1, 40_000);
      return block;
    });
    blocks.forEach((block, index) => index % 10 !== 0 && free(block));
    const before = residentMb();
    expect(trim!()).toBe(true);
    const freed = before - residentMb();
    blocks.forEach((block, index) => index % 10 === 0 && free(block));
    // 90 MB were freed inside the heap; without the trim none of it leaves the process
    expect(freed).toBeGreaterThan(60);
  });
});

function residentMb(): number {
  const pages = Number(readFileSync('/proc/self/statm', 'utf8').split(' ')[1]);
  return (pages * 4096) / 1e6;
}
