import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryObjects } from '../../../../test/helpers/fakes.js';
import { FileStore } from './file-store.js';
import { jobFiles } from './job-files.js';
import { S3BlobStore } from './s3-blob-store.js';

const ID = 'a'.repeat(32);
let dataDir: string;

afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

async function store(): Promise<{ blobs: S3BlobStore; objects: MemoryObjects; jobDirEntries: () => Promise<string[]> }> {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'enricher-s3-staging-'));
  const files = new FileStore(dataDir);
  await files.reset();
  const objects = new MemoryObjects();
  const jobDir = path.dirname(files.jobFile(ID, 'x'));
  return { blobs: new S3BlobStore(objects, files), objects, jobDirEntries: () => readdir(jobDir).catch(() => ['(no folder)']) };
}

describe('S3BlobStore staging on this machine', () => {
  it("keeps a job's folder while one operation has yet to write its file, though another finishes in between", async () => {
    const { blobs, objects, jobDirEntries } = await store();
    // One operation is handed its staging path; before it writes, another one on the same job ends (here a
    // look for a file the bucket does not have, which discards its copy at once).
    const partial = `${await blobs.localPath(jobFiles.result(ID, 'flac'))}.part`;
    expect(await blobs.stageLocal(jobFiles.result(ID, 'mp3'))).toBeNull();
    await writeFile(partial, 'encoded');
    await blobs.adopt(jobFiles.result(ID, 'flac'), partial);
    expect(objects.objects.has(`jobs/${ID}/result.flac`)).toBe(true);
    // The last one out takes the folder with it.
    expect(await jobDirEntries()).toEqual(['(no folder)']);
  });

  it("gives the job's folder back when the last operation abandons its file instead of storing it", async () => {
    const { blobs, objects, jobDirEntries } = await store();
    const stored = `${await blobs.localPath(jobFiles.result(ID, 'flac'))}.part`;
    const failed = `${await blobs.localPath(jobFiles.result(ID, 'mp3'))}.part`;
    await writeFile(stored, 'encoded');
    await writeFile(failed, 'half an encode');
    await blobs.abandon(jobFiles.result(ID, 'mp3'), failed);
    // The other operation still has its file to store: the folder stays for it.
    expect(await jobDirEntries()).toEqual(['result.flac.part']);
    await blobs.adopt(jobFiles.result(ID, 'flac'), stored);
    expect(await jobDirEntries()).toEqual(['(no folder)']);
    expect([...objects.objects.keys()]).toEqual([`jobs/${ID}/result.flac`]);
  });

  it('counts a failed upload as stored: its file is gone, and so is the folder', async () => {
    const { blobs, objects, jobDirEntries } = await store();
    const partial = `${await blobs.localPath(jobFiles.peaks(ID))}.part`;
    await writeFile(partial, '{}');
    objects.failNextPut = new Error('the bucket is down');
    await expect(blobs.adopt(jobFiles.peaks(ID), partial)).rejects.toThrow('the bucket is down');
    expect(await jobDirEntries()).toEqual(['(no folder)']);
  });
});
