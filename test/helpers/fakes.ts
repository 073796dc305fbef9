import { readFile, writeFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import parseRange from 'range-parser';
import type { ChangeListener } from '../../node_app/server/adapters/queue/job-queue.js';
import { MemoryQueue } from '../../node_app/server/adapters/queue/memory-queue.js';
import type { BlobRead } from '../../node_app/server/adapters/storage/blob-store.js';
import type { ObjectStorage, StoredObject } from '../../node_app/server/adapters/storage/object-store.js';
import type { Models } from '../../node_app/server/services/models.js';
import { StyleCatalog } from '../../node_app/server/services/style-catalog.js';

/**
 * Fakes of the parts a job service is built from, for fast tests of its lifecycle: no ONNX Runtime, no Redis,
 * no S3. With WAV input no ffmpeg decodes (ffmpeg only encodes the listening copies); the real file store and WAV
 * codec run underneath.
 */

/** A model that halves the music, waits while `held`, and remembers what it was asked. */
export class FakeModels implements Models {
  readonly state = { status: 'ready', version: 'fake', styles: 2 } as const;
  /** The style vector and seed of every song it enriched, in order. */
  readonly requests: Array<{ styleVector: number[]; seed: number }> = [];
  private readonly styles = new StyleCatalog(
    ['rain', 'blues'].map((id, index) => ({ id, index, label: id, kind: 'nature' as const, description: id })),
    'rain',
    44100,
  );
  private release: () => void = () => undefined;
  private held: Promise<void> | null = null;
  failure: Error | null = null;

  hold(): void {
    this.held = new Promise((resolve) => (this.release = resolve));
  }

  let(): void {
    this.held = null;
    this.release();
  }

  start = async () => undefined;
  close = async () => undefined;
  catalog = () => this.styles;

  async *enrich(
    input: { chunks: AsyncIterable<Float32Array[]> },
    request: { styleVector: Float32Array; seed: number },
    hooks: { signal?: AbortSignal },
  ): AsyncGenerator<Float32Array[]> {
    this.requests.push({ styleVector: [...request.styleVector], seed: request.seed });
    for await (const chunk of input.chunks) {
      await this.held;
      hooks.signal?.throwIfAborted();
      if (this.failure) throw this.failure;
      yield chunk.map((channel) => channel.map((v) => v / 2));
    }
  }
}

/**
 * Redis as the web and worker processes see it: one queue for all of them, whose changes name a job without
 * carrying it (each process looks it up), whose free workers elsewhere a web process cannot count, and whose
 * jobs outlive any one process (a job handed back waits for the next worker).
 */
export class SharedQueueFake<D, R> extends MemoryQueue<D, R> {
  override async backlog(): Promise<{ waiting: number; idleRunners: number }> {
    return { waiting: (await super.backlog()).waiting, idleRunners: 0 };
  }

  override async release(): Promise<void> {}

  override onChange(listener: ChangeListener<D, R>): void {
    super.onChange((id) => listener(id, null));
  }
}

/** A bucket in memory, with S3's answers: null for a missing key, `InvalidRange` for a range past the end. */
export class MemoryObjects implements ObjectStorage {
  readonly objects = new Map<string, { bytes: Buffer; lastModified: Date }>();
  /** Thrown by the next `putFile`, once. */
  failNextPut: Error | null = null;

  async putFile(key: string, file: string): Promise<void> {
    const failure = this.failNextPut;
    this.failNextPut = null;
    if (failure) throw failure;
    this.objects.set(key, { bytes: await readFile(file), lastModified: new Date() });
  }

  async get(key: string, range?: string): Promise<BlobRead | null> {
    const object = this.objects.get(key);
    if (!object) return null;
    const size = object.bytes.length;
    const ranges = range === undefined ? -2 : parseRange(size, range);
    if (ranges === -1) throw Object.assign(new Error('The requested range is not satisfiable'), { name: 'InvalidRange' });
    if (ranges === -2 || ranges.length !== 1) return { body: Readable.from([object.bytes]), length: size };
    const [{ start, end }] = ranges;
    return { body: Readable.from([object.bytes.subarray(start, end + 1)]), length: end - start + 1, contentRange: `bytes ${start}-${end}/${size}` };
  }

  async getFile(key: string, file: string): Promise<boolean> {
    const object = this.objects.get(key);
    if (!object) return false;
    await writeFile(file, object.bytes);
    return true;
  }

  async exists(key: string): Promise<boolean> {
    return this.objects.has(key);
  }

  async *list(prefix: string): AsyncGenerator<StoredObject> {
    for (const [key, { lastModified }] of [...this.objects]) if (key.startsWith(prefix)) yield { key, lastModified };
  }

  async removePrefix(prefix: string): Promise<void> {
    for (const key of [...this.objects.keys()]) if (key.startsWith(prefix)) this.objects.delete(key);
  }

  async check(): Promise<void> {}

  close(): void {}

  /** The keys under `jobs/<id>/`, sorted. */
  keysOf(id: string): string[] {
    return [...this.objects.keys()].filter((key) => key.startsWith(`jobs/${id}/`)).sort();
  }
}
