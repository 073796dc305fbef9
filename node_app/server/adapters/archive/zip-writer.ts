import { Readable } from 'node:stream';

/**
 * A file going into a zip: its name inside the archive (UTF-8, folders with "/") and its bytes, opened only when
 * its turn comes, so an album is never held in memory and each file may be made (encoded) just before it is read.
 */
export interface ZipEntry {
  name: string;
  modified: Date;
  open(): Promise<Readable>;
}

/**
 * Classic zip (no ZIP64) keeps sizes and offsets in 32 bits: the archive as a whole must stay under 4 GiB and hold
 * at most 65 535 files. An album is bounded far below that (docs/api.md, "Albums"); going past it is a bug, and the
 * stream fails rather than write an archive no one can open.
 */
export const ZIP_MAX_BYTES = 0xffff_ffff;
const ZIP_MAX_ENTRIES = 0xffff;

const LOCAL_HEADER = 0x04034b50;
const DATA_DESCRIPTOR = 0x08074b50;
const CENTRAL_HEADER = 0x02014b50;
const END_OF_CENTRAL_DIRECTORY = 0x06054b50;
/** Bit 3: sizes and CRC follow the data (they are known only once it has been read); bit 11: names are UTF-8. */
const FLAGS = 0x0008 | 0x0800;
/** 2.0: the oldest version that knows data descriptors. */
const VERSION_NEEDED = 20;
/** Made on Unix (3), spec version 2.0: the external attributes then carry Unix permissions. */
const VERSION_MADE_BY = (3 << 8) | 20;
/** A regular file, rw-r--r--. */
const UNIX_FILE_ATTRIBUTES = (0o100644 << 16) >>> 0;
const STORED = 0;

/**
 * A store-only zip of `entries`, written as it is read: each file's bytes pass through once (CRC-32 counted on
 * the way) and are never compressed — WAV, MP3, FLAC and Ogg do not shrink — so memory is one chunk at a time
 * whatever the size of the files. Back-pressure comes from the consumer: the next chunk is read when it wants one.
 */
export function zipStream(entries: readonly ZipEntry[]): Readable {
  if (entries.length > ZIP_MAX_ENTRIES) throw new Error(`a zip without ZIP64 holds at most ${ZIP_MAX_ENTRIES} files`);
  return Readable.from(zipChunks(entries), { objectMode: false });
}

interface Written {
  name: Buffer;
  crc: number;
  size: number;
  offset: number;
  time: number;
  date: number;
}

async function* zipChunks(entries: readonly ZipEntry[]): AsyncGenerator<Buffer> {
  const written: Written[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = Buffer.from(entry.name, 'utf8');
    const { time, date } = dosDateTime(entry.modified);
    const header = localHeader(name, time, date);
    yield header;
    const start = offset;
    offset += header.length;
    let crc = CRC_START;
    let size = 0;
    const body = await entry.open();
    for await (const chunk of body) {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
      crc = crc32Update(crc, bytes);
      size += bytes.length;
      offset += bytes.length;
      if (offset > ZIP_MAX_BYTES) throw new Error('the zip would pass 4 GiB, which needs ZIP64');
      yield bytes;
    }
    const done: Written = { name, crc: crc32Final(crc), size, offset: start, time, date };
    const descriptor = dataDescriptor(done);
    yield descriptor;
    offset += descriptor.length;
    written.push(done);
  }
  const central = Buffer.concat(written.map(centralHeader));
  if (offset + central.length + 22 > ZIP_MAX_BYTES) throw new Error('the zip would pass 4 GiB, which needs ZIP64');
  yield central;
  yield endOfCentralDirectory(written.length, central.length, offset);
}

function localHeader(name: Buffer, time: number, date: number): Buffer {
  const header = Buffer.alloc(30);
  header.writeUInt32LE(LOCAL_HEADER, 0);
  header.writeUInt16LE(VERSION_NEEDED, 4);
  header.writeUInt16LE(FLAGS, 6);
  header.writeUInt16LE(STORED, 8);
  header.writeUInt16LE(time, 10);
  header.writeUInt16LE(date, 12);
  // CRC-32 and both sizes stay 0 here: with bit 3 set they come in the data descriptor after the bytes.
  header.writeUInt16LE(name.length, 26);
  header.writeUInt16LE(0, 28);
  return Buffer.concat([header, name]);
}

function dataDescriptor({ crc, size }: Written): Buffer {
  const descriptor = Buffer.alloc(16);
  descriptor.writeUInt32LE(DATA_DESCRIPTOR, 0);
  descriptor.writeUInt32LE(crc, 4);
  descriptor.writeUInt32LE(size, 8);
  descriptor.writeUInt32LE(size, 12);
  return descriptor;
}

function centralHeader({ name, crc, size, offset, time, date }: Written): Buffer {
  const header = Buffer.alloc(46);
  header.writeUInt32LE(CENTRAL_HEADER, 0);
  header.writeUInt16LE(VERSION_MADE_BY, 4);
  header.writeUInt16LE(VERSION_NEEDED, 6);
  header.writeUInt16LE(FLAGS, 8);
  header.writeUInt16LE(STORED, 10);
  header.writeUInt16LE(time, 12);
  header.writeUInt16LE(date, 14);
  header.writeUInt32LE(crc, 16);
  header.writeUInt32LE(size, 20);
  header.writeUInt32LE(size, 24);
  header.writeUInt16LE(name.length, 28);
  // Extra field, comment, disk number start and internal attributes: all 0.
  header.writeUInt32LE(UNIX_FILE_ATTRIBUTES, 38);
  header.writeUInt32LE(offset, 42);
  return Buffer.concat([header, name]);
}

function endOfCentralDirectory(count: number, size: number, offset: number): Buffer {
  const end = Buffer.alloc(22);
  end.writeUInt32LE(END_OF_CENTRAL_DIRECTORY, 0);
  end.writeUInt16LE(count, 8);
  end.writeUInt16LE(count, 10);
  end.writeUInt32LE(size, 12);
  end.writeUInt32LE(offset, 16);
  return end;
}

/** MS-DOS time and date, as zip keeps them: local time, two-second steps, years from 1980. */
function dosDateTime(when: Date): { time: number; date: number } {
  const year = Math.min(2107, Math.max(1980, when.getFullYear()));
  return {
    time: (when.getHours() << 11) | (when.getMinutes() << 5) | Math.floor(when.getSeconds() / 2),
    date: ((year - 1980) << 9) | ((when.getMonth() + 1) << 5) | when.getDate(),
  };
}

/** CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320), as zip checks every file. Node 20 has no zlib.crc32. */
const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();
const CRC_START = 0xffff_ffff;

function crc32Update(crc: number, bytes: Uint8Array): number {
  let c = crc;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return c >>> 0;
}

function crc32Final(crc: number): number {
  return (crc ^ CRC_START) >>> 0;
}

/** The CRC-32 of `bytes` in one go. */
export function crc32(bytes: Uint8Array): number {
  return crc32Final(crc32Update(CRC_START, bytes));
}
