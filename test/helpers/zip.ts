import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { fixtureDir } from './audio.js';

const run = promisify(execFile);

export interface OpenedZip {
  /** Where the zip was written, for other tools (ffmpeg reads a result out of it with `unzip -p`). */
  file: string;
  /** What Debian's `unzip -t` said about it. */
  unzipTest: string;
  /** Each entry as Python's zipfile read it (after its own CRC check), in the archive's order. */
  entries: Array<{ name: string; data: Buffer }>;
}

let count = 0;

/** Writes the zip to a file and opens it with two independent readers: Info-ZIP's unzip and Python's zipfile. */
export async function openZip(bytes: Buffer): Promise<OpenedZip> {
  const file = path.join(await fixtureDir(), `album-${process.pid}-${count++}.zip`);
  await writeFile(file, bytes);
  const { stdout: unzipTest } = await run('/usr/bin/unzip', ['-t', file]);
  const script = [
    'import base64, json, sys, zipfile',
    'with zipfile.ZipFile(sys.argv[1]) as z:',
    '    bad = z.testzip()',
    '    assert bad is None, bad',
    '    print(json.dumps([{"name": i.filename, "data": base64.b64encode(z.read(i)).decode()} for i in z.infolist()]))',
  ].join('\n');
  const { stdout } = await run('/usr/bin/python3', ['-c', script, file], { maxBuffer: 512 * 1024 * 1024 });
  const entries = (JSON.parse(stdout) as Array<{ name: string; data: string }>).map(({ name, data }) => ({ name, data: Buffer.from(data, 'base64') }));
  return { file, unzipTest, entries };
}
