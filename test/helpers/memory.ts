import { readdir, readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Memory of processes as Linux reports it in /proc, for tests, benches and scripts. A dyno's memory limit counts
 * every process in it, ffmpeg children included.
 */

/** A field of /proc/<pid>/status in kB: `VmRSS` is resident memory now, `VmHWM` its peak since the start. */
export async function statusKb(pid: number, field: 'VmRSS' | 'VmHWM'): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  return match ? Number(match[1]) : 0;
}

/** The direct children of `pid`, of all its threads. */
export async function childPids(pid: number): Promise<number[]> {
  const tasks = await readdir(`/proc/${pid}/task`).catch(() => [] as string[]);
  const pids: number[] = [];
  for (const task of tasks) {
    const text = await readFile(`/proc/${pid}/task/${task}/children`, 'utf8').catch(() => '');
    pids.push(...text.split(/\s+/).filter(Boolean).map(Number));
  }
  return pids;
}

/** `rootPid` and every process below it. */
export async function processTree(rootPid: number): Promise<number[]> {
  const pids = [rootPid];
  for (let i = 0; i < pids.length; i++) pids.push(...(await childPids(pids[i])));
  return pids;
}

/** Resident memory of a process and all its descendants, in kB; a process that ends meanwhile counts 0. */
export async function treeRssKb(rootPid: number): Promise<number> {
  let total = 0;
  for (const pid of await processTree(rootPid)) total += await statusKb(pid, 'VmRSS').catch(() => 0);
  return total;
}

/** Samples `read` every `intervalMs` until stopped; returns the largest value seen. */
export function samplePeak(read: () => Promise<number>, intervalMs = 50): { stop(): Promise<number> } {
  let peak = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      peak = Math.max(peak, await read().catch(() => 0));
      await sleep(intervalMs);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return peak;
    },
  };
}
