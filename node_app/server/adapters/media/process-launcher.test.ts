import { mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { childPids, statusKb } from '../../../../test/helpers/memory.js';
import { LaunchError, ProcessLauncher } from './process-launcher.js';

const launcher = new ProcessLauncher();
launcher.start();
afterAll(() => launcher.close());

async function launcherPid(): Promise<number> {
  for (const pid of await childPids(process.pid)) {
    const command = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (command.includes('process-launcher')) return pid;
  }
  throw new Error('no launcher process');
}

describe('ProcessLauncher', () => {
  it('is a small process: a dyno counts its memory beside the server', async () => {
    // A forked Node helper held 46–48 MB here.
    expect(await statusKb(await launcherPid(), 'VmRSS')).toBeLessThan(10 * 1024);
  });

  it('reports the exit code, stderr and, when asked, stdout', async () => {
    const run = launcher.run('bash', ['-c', 'echo out; echo err >&2; exit 3'], { captureStdout: true });
    expect(await run.exited).toEqual({ code: 3, signal: null, stderr: 'err\n', stdout: 'out\n' });
  });

  it('keeps the start and the end of a long stderr', async () => {
    const run = launcher.run('bash', ['-c', 'echo first >&2; head -c 100000 /dev/zero | tr "\\0" x >&2; echo; echo last >&2']);
    const { stderr } = await run.exited;
    expect(stderr.startsWith('first\n')).toBe(true);
    expect(stderr.trimEnd().endsWith('last')).toBe(true);
    expect(stderr.length).toBeLessThan(16_100);
  });

  it('kills a command on request and says it was killed', async () => {
    const run = launcher.run('sleep', ['30']);
    await sleep(200);
    run.kill();
    expect(await run.exited).toMatchObject({ code: null, signal: 'SIGKILL' });
  });

  it('refuses a command that does not exist', async () => {
    await expect(launcher.run('/nonexistent/ffmpeg', []).exited).rejects.toBeInstanceOf(LaunchError);
  });

  it('runs a command at a lower priority when asked', async () => {
    const run = launcher.run('bash', ['-c', 'cut -d" " -f19 /proc/$$/stat'], { niceness: 10, captureStdout: true });
    const { stdout } = await run.exited;
    expect(Number(stdout.trim())).toBeGreaterThanOrEqual(10);
  });

  it('streams through a socket the command connects to, in both directions', async () => {
    const socket = launcher.socket();
    const command = `const s = require("node:net").connect(process.argv[1].slice(5)); s.pipe(s)`;
    const run = launcher.run(process.execPath, ['-e', command, socket.url]);
    const connection = await socket.connected;
    const echoed: Buffer[] = [];
    connection.on('data', (chunk: Buffer) => echoed.push(chunk));
    const done = new Promise((resolve) => connection.once('end', resolve));
    connection.end('hello');
    await done;
    expect(Buffer.concat(echoed).toString()).toBe('hello');
    expect((await run.exited).code).toBe(0);
  });

  it('gives up on a socket that nobody connects to', async () => {
    const socket = launcher.socket();
    socket.close();
    await expect(socket.connected).rejects.toBeInstanceOf(LaunchError);
  });

  it('takes what it runs with it when it stops', async () => {
    const own = new ProcessLauncher();
    const pidFile = path.join(await mkdtemp(path.join(os.tmpdir(), 'launcher-test-')), 'pid');
    const run = own.run('bash', ['-c', `echo $$ > ${pidFile}; exec sleep 30`]);
    let pid = 0;
    while (!pid) pid = Number(await readFile(pidFile, 'utf8').catch(() => '0')) || (await sleep(20), 0);
    await own.close();
    await expect(run.exited).rejects.toBeInstanceOf(LaunchError);
    expect(await gone(pid)).toBe(true);
  });
});

async function gone(pid: number): Promise<boolean> {
  for (let i = 0; i < 100; i++) {
    const state = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    if (!state || state.slice(state.lastIndexOf(')') + 2).startsWith('Z')) return true;
    await sleep(20);
  }
  return false;
}
