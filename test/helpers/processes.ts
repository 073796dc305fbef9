import type { ChildProcess } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { processTree } from './memory.js';

/**
 * The ffmpeg processes descended from `root` (this test process by default), read from /proc: the server's
 * encoders are its grandchildren, started by its launcher process.
 */
export async function ffmpegChildren(root = process.pid): Promise<number[]> {
  const parents = new Map<number, number>();
  const names = new Map<number, string>();
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = await readFile(`/proc/${name}/stat`, 'utf8').catch(() => '');
    // "pid (comm) state ppid …"; comm may hold spaces and parentheses, so split after the last ')'.
    const close = stat.lastIndexOf(')');
    if (close < 0) continue;
    names.set(Number(name), stat.slice(stat.indexOf('(') + 1, close));
    parents.set(Number(name), Number(stat.slice(close + 2).split(' ')[1]));
  }
  const descends = (pid: number): boolean => {
    for (let at = parents.get(pid); at !== undefined && at > 1; at = parents.get(at)) if (at === root) return true;
    return false;
  };
  return [...names].filter(([pid, comm]) => comm.startsWith('ffmpeg') && descends(pid)).map(([pid]) => pid);
}

/** CPU time, in clock ticks, that `root` and the processes below it have used so far, reaped children included. */
export async function treeCpuTicks(root: number): Promise<number> {
  let ticks = 0;
  for (const pid of await processTree(root)) {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    // After the name: state is field 3, so utime, stime, cutime and cstime (fields 14–17) are 11–14.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    for (const field of fields.slice(11, 15)) ticks += Number(field) || 0;
  }
  return ticks;
}

/** The longest a process may take to start, however busy it keeps itself: what a test's timeout must allow. */
export const START_LIMIT_MS = 300_000;
/** A start that has used no CPU and printed nothing for this long is stuck, not slow. */
const START_STALL_MS = 60_000;

/**
 * Waits until `ready()` answers true for a process being started (a server loading its models, a worker
 * connecting). On a shared 2-core VM at load 20+ that takes minutes, so there is no fixed deadline: the wait goes
 * on while the process, or a process below it (the launcher, ffmpeg decoding the banks), uses CPU or prints. It
 * fails at once when the process exits, after a minute without either, and after `START_LIMIT_MS` in all.
 */
export async function waitForStart(
  child: ChildProcess,
  output: readonly string[],
  ready: () => Promise<boolean>,
  what: string,
  { stallMs = START_STALL_MS, limitMs = START_LIMIT_MS } = {},
): Promise<void> {
  const started = Date.now();
  let progress = { ticks: -1, lines: -1, at: started };
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${what} exited (${child.exitCode ?? child.signalCode}) before it was ready`);
    if (await ready()) return;
    const now = Date.now();
    const ticks = child.pid === undefined ? 0 : await treeCpuTicks(child.pid);
    if (ticks !== progress.ticks || output.length !== progress.lines) progress = { ticks, lines: output.length, at: now };
    if (now - progress.at > stallMs) throw new Error(`${what} used no CPU and printed nothing for ${stallMs / 1000} s`);
    if (now - started > limitMs) throw new Error(`${what} was not ready within ${limitMs / 1000} s`);
    await sleep(100);
  }
}
