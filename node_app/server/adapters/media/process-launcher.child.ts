import { spawn, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import os from 'node:os';
import type { FromLauncher, ToLauncher } from './process-launcher.js';

/**
 * The launcher process: starts the commands the server asks for and reports how they end. It stays small, so
 * its fork() is cheap; and when the server goes, however it goes, the launcher kills what it started.
 */
const children = new Map<number, ChildProcess>();

function send(message: FromLauncher, handle?: Socket, sent?: () => void): void {
  process.send?.(message, handle, {}, sent);
}

process.on('message', (message: ToLauncher) => {
  if (message.type === 'kill') {
    children.get(message.id)?.kill('SIGKILL');
    return;
  }
  const { id, command, args, niceness, captureStdout, pipe } = message;
  const child = spawn(command, args, { stdio: [pipe === 'stdin' ? 'pipe' : 'ignore', captureStdout || pipe === 'stdout' ? 'pipe' : 'ignore', 'pipe'] });
  if (child.pid !== undefined) children.set(id, child);
  const stderr = new HeadAndTail();
  let stdout = '';
  if (captureStdout) {
    child.stdout?.on('data', (chunk: Buffer) => {
      if (stdout.length < 2000) stdout = (stdout + chunk.toString('utf8')).slice(0, 2000);
    });
  }
  child.stderr?.on('data', (chunk: Buffer) => stderr.add(chunk.toString('utf8')));
  child.once('spawn', () => {
    if (niceness && child.pid !== undefined) {
      try {
        os.setPriority(child.pid, Math.min(19, os.getPriority(child.pid) + niceness));
      } catch {
        // A platform that refuses a lower priority still runs the command, only at normal priority.
      }
    }
    // The pipe's handle moves to the server, which streams into or out of it; this process keeps no copy.
    // A spawned child's pipes are sockets, whatever the typings say.
    const handle = pipe === 'stdin' ? child.stdin : pipe === 'stdout' ? child.stdout : null;
    // Node waits for a child's readable pipes to close before it reports the child closed; a stdout that went
    // to the server is closed here once sent, or this process would never report the exit.
    send({ type: 'spawned', id, pid: child.pid ?? 0 }, (handle as Socket | null) ?? undefined, () => {
      if (pipe === 'stdout') child.stdout?.destroy();
    });
  });
  child.once('error', (error: NodeJS.ErrnoException) => {
    // Only a failed start leaves no process behind; any other error is followed by 'close'.
    if (child.pid === undefined) send({ type: 'failed', id, reason: error.code ?? error.message });
  });
  child.once('close', (code, signal) => {
    children.delete(id);
    send({ type: 'exit', id, code, signal, stderr: stderr.text(), stdout });
  });
});

/**
 * What a command wrote to stderr, bounded: its start says what ffmpeg read (the probe's report), its end why it
 * stopped (an encode's last error); a long run's progress in between is dropped.
 */
class HeadAndTail {
  private head = '';
  private tail = '';

  add(text: string): void {
    const room = 12_000 - this.head.length;
    this.head += text.slice(0, Math.max(0, room));
    if (room < text.length) this.tail = (this.tail + text.slice(Math.max(0, room))).slice(-4_000);
  }

  text(): string {
    return this.tail ? `${this.head}\n…\n${this.tail}` : this.head;
  }
}

process.on('disconnect', () => {
  for (const child of children.values()) child.kill('SIGKILL');
  process.exit(0);
});
