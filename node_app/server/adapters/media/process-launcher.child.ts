import { spawn, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import os from 'node:os';
import type { FromLauncher, ToLauncher } from './process-launcher.js';

/**
 * The launcher process: starts the commands the server asks for and reports how they end. It stays small, so
 * its fork() is cheap; and when the server goes, however it goes, the launcher kills what it started.
 */
const children = new Map<number, ChildProcess>();

function send(message: FromLauncher, handle?: Socket): void {
  process.send?.(message, handle);
}

process.on('message', (message: ToLauncher) => {
  if (message.type === 'kill') {
    children.get(message.id)?.kill('SIGKILL');
    return;
  }
  const { id, command, args, niceness, captureStdout, pipeStdin } = message;
  const child = spawn(command, args, { stdio: [pipeStdin ? 'pipe' : 'ignore', captureStdout ? 'pipe' : 'ignore', 'pipe'] });
  if (child.pid !== undefined) children.set(id, child);
  let stderr = '';
  let stdout = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    if (stdout.length < 2000) stdout = (stdout + chunk.toString('utf8')).slice(0, 2000);
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-2000);
  });
  child.once('spawn', () => {
    if (niceness && child.pid !== undefined) {
      try {
        os.setPriority(child.pid, Math.min(19, os.getPriority(child.pid) + niceness));
      } catch {
        // A platform that refuses a lower priority still runs the command, only at normal priority.
      }
    }
    // The stdin handle moves to the server, which streams into it; this process keeps no copy.
    // A spawned child's pipes are sockets, whatever the typings say.
    send({ type: 'spawned', id, pid: child.pid ?? 0 }, (child.stdin as Socket | null) ?? undefined);
  });
  child.once('error', (error: NodeJS.ErrnoException) => {
    // Only a failed start leaves no process behind; any other error is followed by 'close'.
    if (child.pid === undefined) send({ type: 'failed', id, reason: error.code ?? error.message });
  });
  child.once('close', (code, signal) => {
    children.delete(id);
    send({ type: 'exit', id, code, signal, stderr, stdout });
  });
});

process.on('disconnect', () => {
  for (const child of children.values()) child.kill('SIGKILL');
  process.exit(0);
});
