import { accessSync, constants, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { ProcessLauncher } from '../process-launcher.js';
import { runFfmpeg } from './run.js';

const require = createRequire(import.meta.url);

export interface FfmpegBinary {
  path: string;
  source: 'FFMPEG_PATH' | 'system' | 'bundled';
  /** Set when a system ffmpeg was asked for but none was found, so the fallback is logged rather than silent. */
  fallbackReason?: string;
}

export interface ResolveFfmpegOptions {
  /** Prefer an `ffmpeg` on PATH, e.g. the one Heroku's apt buildpack installs from the Aptfile. */
  preferSystem?: boolean;
  /** The PATH to search; the process's own by default. */
  searchPath?: string;
}

/**
 * FFMPEG_PATH wins; then, where configured, the system's ffmpeg — a distribution build gets security fixes,
 * which matters on a server that decodes strangers' files; then the static build that @ffmpeg-installer
 * ships, which needs no setup and is the default everywhere else.
 */
export function resolveFfmpeg(configured?: string, options: ResolveFfmpegOptions = {}): FfmpegBinary {
  if (configured) return { path: configured, source: 'FFMPEG_PATH' };
  let fallbackReason: string | undefined;
  if (options.preferSystem) {
    const system = findExecutable('ffmpeg', options.searchPath ?? process.env.PATH ?? '');
    if (system) return { path: system, source: 'system' };
    fallbackReason = 'a system ffmpeg was configured but none is on PATH';
  }
  const installer = require('@ffmpeg-installer/ffmpeg') as { path: string };
  return { path: installer.path, source: 'bundled', ...(fallbackReason ? { fallbackReason } : {}) };
}

/** The first executable file called `name` in a PATH-style list of folders, like `command -v`. */
export function findExecutable(name: string, searchPath: string): string | null {
  for (const dir of searchPath.split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    try {
      if (statSync(candidate).isFile()) {
        accessSync(candidate, constants.X_OK);
        return candidate;
      }
    } catch {
      // Not there or not executable: keep looking, as a shell would.
    }
  }
  return null;
}

/** The first line of `ffmpeg -version` ("ffmpeg version 5.1.9-0+deb12u1 …"). */
export async function ffmpegVersion(launcher: ProcessLauncher, binary: string, timeoutMs: number): Promise<string> {
  const run = runFfmpeg(launcher, binary, ['-hide_banner', '-nostdin', '-loglevel', 'error', '-version'], {
    timeout: { ms: timeoutMs, message: 'ffmpeg -version took too long' },
    captureStdout: true,
  });
  const { code, stdout } = await run.exited;
  if (code !== 0) throw new Error(`exited with code ${code}`);
  return stdout.split('\n')[0].trim();
}
