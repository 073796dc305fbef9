import { createRequire } from 'node:module';
import type { Logger } from '../../logger.js';

/**
 * Gives glibc's free heap pages back to the system, or returns false where that cannot be done (no glibc, no
 * koffi binary for the platform). Freed blocks leave holes inside glibc's heaps that it keeps for later:
 * after a song, V8's optimising compilers (their zones) and the pipes' reads had left 33 MB of them in the
 * main arena, held as resident memory that a dyno's limit counts. `malloc_trim(0)` returns every whole free
 * page, wherever it lies. Node cannot call it by itself, so it goes through koffi, a foreign-function
 * library whose prebuilt binary ships in its npm package.
 */
export type HeapTrim = () => boolean;

export function loadHeapTrim(): HeapTrim | null {
  try {
    const koffi = createRequire(import.meta.url)('koffi') as typeof import('koffi');
    const mallocTrim = koffi.load('libc.so.6').func('int malloc_trim(size_t pad)') as (pad: number) => number;
    return () => mallocTrim(0) === 1;
  } catch {
    return null;
  }
}

export interface HeapTrimmerOptions {
  /** How often the process's CPU time is looked at. */
  intervalMs?: number;
  /** A look that finds less CPU time than this since the last one finds the process quiet. */
  quietCpuMs?: number;
  /** The process must have worked this much since the last trim: an idle server trims once, not every second. */
  workCpuMs?: number;
  /** Where no trim can be made, the trimmer does nothing. */
  trim?: HeapTrim | null;
  /** Microseconds of CPU time (user and system, every thread) this process has used. */
  cpuMicros?: () => number;
  logger?: Logger;
}

/**
 * Trims the heaps once the process goes quiet after work: a look every second that finds it has worked since
 * the last trim but not since the last look. Trimming while songs run would only hand back pages that the next
 * window takes again; mapping small blocks instead of trimming (`MALLOC_MMAP_THRESHOLD_` ≤ 24 kB) gave the same
 * memory back but cost a third of the speed (docs/performance.md).
 */
export function startHeapTrimmer({
  intervalMs = 1_000,
  quietCpuMs = 30,
  workCpuMs = 300,
  trim = loadHeapTrim(),
  cpuMicros = processCpuMicros,
  logger,
}: HeapTrimmerOptions = {}): { stop(): void } {
  if (!trim) {
    logger?.info('malloc_trim is not available here: freed native memory stays with the process until reused');
    return { stop() {} };
  }
  let lastLook = cpuMicros();
  let lastTrim = lastLook;
  const timer = setInterval(() => {
    const now = cpuMicros();
    const quiet = now - lastLook < quietCpuMs * 1_000;
    if (quiet && now - lastTrim >= workCpuMs * 1_000) {
      trim();
      lastTrim = cpuMicros();
    }
    lastLook = cpuMicros();
  }, intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}

function processCpuMicros(): number {
  const { user, system } = process.cpuUsage();
  return user + system;
}
