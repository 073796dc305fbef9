import { readdir, readFile } from 'node:fs/promises';

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
