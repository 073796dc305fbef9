import { readdir } from 'node:fs/promises';
import path from 'node:path';

/**
 * Every file under `dir`, as paths relative to it, sorted. A folder deleted while the walk is in it (a job being
 * removed, its last staging file given back) makes `readdir` fail with ENOENT: the walk starts again.
 */
export async function filesUnder(dir: string): Promise<string[]> {
  for (let attempt = 0; ; attempt++) {
    try {
      const entries = await readdir(dir, { recursive: true, withFileTypes: true });
      return entries.filter((e) => e.isFile()).map((e) => path.relative(dir, path.join(e.parentPath, e.name))).sort();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || attempt >= 5) throw error;
    }
  }
}
