/**
 * Decodes the models' own recordings (models/banks/*.flac: mono, 16-bit, written by the `flac` tool) to the
 * 16-bit samples the server reads from them with ffmpeg. FLAC is lossless and its decoding is integer
 * arithmetic, so this gives those samples exactly on every machine, where a browser's own decoder would hand
 * back floats scaled in its own way (Chromium divides positive samples by 32767). Only what the banks use is
 * read: one channel, up to 16 bits, the fixed and LPC predictors, both Rice codings.
 */

export interface FlacPcm {
  sampleRate: number;
  samples: Int16Array;
}

export class FlacError extends Error {
  override name = 'FlacError';
}

/** The recording's samples; throws FlacError for a file that is not a mono FLAC of up to 16 bits. */
export function decodeFlac(bytes: Uint8Array): FlacPcm {
  const reader = new BitReader(bytes);
  if (reader.bits(32) !== 0x664c6143) throw new FlacError('not a FLAC file');
  let info: { sampleRate: number; channels: number; bitsPerSample: number; total: number } | null = null;
  for (let last = false; !last; ) {
    last = reader.bits(1) === 1;
    const type = reader.bits(7);
    const length = reader.bits(24);
    if (type === 0) {
      reader.bits(16); // smallest block size
      reader.bits(16); // largest block size
      reader.bits(24); // smallest frame size
      reader.bits(24); // largest frame size
      const sampleRate = reader.bits(20);
      const channels = reader.bits(3) + 1;
      const bitsPerSample = reader.bits(5) + 1;
      const total = reader.bits(4) * 2 ** 32 + reader.bits(32);
      reader.skipBytes(16); // MD5 of the samples
      info = { sampleRate, channels, bitsPerSample, total };
    } else {
      reader.skipBytes(length);
    }
  }
  if (!info) throw new FlacError('the FLAC file has no STREAMINFO block');
  if (info.channels !== 1 || info.bitsPerSample > 16) throw new FlacError(`expected mono audio of up to 16 bits, found ${info.channels} channels of ${info.bitsPerSample} bits`);
  const out = new Int16Array(info.total);
  let written = 0;
  const block = new Int32Array(65536);
  while (written < info.total && reader.bytesLeft() > 0) {
    const size = readFrame(reader, info.bitsPerSample, block);
    const take = Math.min(size, info.total - written);
    for (let i = 0; i < take; i++) out[written + i] = block[i];
    written += take;
  }
  if (written !== info.total) throw new FlacError(`the FLAC file ends after ${written} of ${info.total} samples`);
  return { sampleRate: info.sampleRate, samples: out };
}

/** One frame into `block`; returns its number of samples. */
function readFrame(reader: BitReader, streamBits: number, block: Int32Array): number {
  if (reader.bits(14) !== 0x3ffe) throw new FlacError('lost the frame sync');
  reader.bits(2); // reserved, blocking strategy
  const sizeCode = reader.bits(4);
  const rateCode = reader.bits(4);
  const channelCode = reader.bits(4);
  const depthCode = reader.bits(3);
  reader.bits(1);
  if (channelCode !== 0) throw new FlacError('expected a mono frame');
  // The frame or sample number, UTF-8 coded: a lead byte and as many continuation bytes as it has leading ones.
  const lead = reader.bits(8);
  for (let mask = 0x80, extra = -1; lead & mask; mask >>= 1) if (++extra > 0) reader.bits(8);
  let size: number;
  if (sizeCode === 1) size = 192;
  else if (sizeCode >= 2 && sizeCode <= 5) size = 576 << (sizeCode - 2);
  else if (sizeCode === 6) size = reader.bits(8) + 1;
  else if (sizeCode === 7) size = reader.bits(16) + 1;
  else if (sizeCode >= 8) size = 256 << (sizeCode - 8);
  else throw new FlacError('reserved block size');
  if (rateCode === 12) reader.bits(8);
  else if (rateCode === 13 || rateCode === 14) reader.bits(16);
  const bits = depthCode === 0 ? streamBits : ([0, 8, 12, 0, 16, 20, 24, 32][depthCode] ?? 0);
  if (bits === 0 || bits > 16) throw new FlacError('unsupported sample size');
  reader.bits(8); // CRC-8 of the header
  readSubframe(reader, bits, size, block);
  reader.alignToByte();
  reader.bits(16); // CRC-16 of the frame
  return size;
}

function readSubframe(reader: BitReader, frameBits: number, size: number, out: Int32Array): void {
  reader.bits(1);
  const type = reader.bits(6);
  let wasted = 0;
  if (reader.bits(1) === 1) wasted = reader.unary() + 1;
  const bits = frameBits - wasted;
  if (type === 0) {
    out.fill(reader.signed(bits), 0, size);
  } else if (type === 1) {
    for (let i = 0; i < size; i++) out[i] = reader.signed(bits);
  } else if (type >= 8 && type <= 12) {
    const order = type - 8;
    for (let i = 0; i < order; i++) out[i] = reader.signed(bits);
    readResidual(reader, size, order, out);
    restoreFixed(out, size, order);
  } else if (type >= 32) {
    const order = type - 31;
    for (let i = 0; i < order; i++) out[i] = reader.signed(bits);
    const precision = reader.bits(4) + 1;
    if (precision === 16) throw new FlacError('invalid LPC precision');
    const shift = reader.signed(5);
    if (shift < 0) throw new FlacError('negative LPC shift');
    const coefficients = Array.from({ length: order }, () => reader.signed(precision));
    readResidual(reader, size, order, out);
    restoreLpc(out, size, coefficients, 2 ** shift);
  } else {
    throw new FlacError('reserved subframe type');
  }
  if (wasted > 0) for (let i = 0; i < size; i++) out[i] *= 2 ** wasted;
}

/** The prediction residual after the warm-up samples, Rice coded in 2^order partitions. */
function readResidual(reader: BitReader, size: number, predictorOrder: number, out: Int32Array): void {
  const method = reader.bits(2);
  if (method > 1) throw new FlacError('reserved residual coding');
  const parameterBits = method === 0 ? 4 : 5;
  const escape = (1 << parameterBits) - 1;
  const partitionOrder = reader.bits(4);
  const partitions = 1 << partitionOrder;
  let at = predictorOrder;
  for (let p = 0; p < partitions; p++) {
    const count = (size >> partitionOrder) - (p === 0 ? predictorOrder : 0);
    const parameter = reader.bits(parameterBits);
    if (parameter === escape) {
      const raw = reader.bits(5);
      for (let i = 0; i < count; i++) out[at++] = raw === 0 ? 0 : reader.signed(raw);
    } else {
      reader.rice(out, at, count, parameter);
      at += count;
    }
  }
}

function restoreFixed(s: Int32Array, size: number, order: number): void {
  for (let i = order; i < size; i++) {
    if (order === 1) s[i] += s[i - 1];
    else if (order === 2) s[i] += 2 * s[i - 1] - s[i - 2];
    else if (order === 3) s[i] += 3 * s[i - 1] - 3 * s[i - 2] + s[i - 3];
    else if (order === 4) s[i] += 4 * s[i - 1] - 6 * s[i - 2] + 4 * s[i - 3] - s[i - 4];
  }
}

/** Products of 15-bit coefficients and 16-bit samples summed over up to 32 taps stay far inside a double's 53 bits. */
function restoreLpc(s: Int32Array, size: number, coefficients: number[], divisor: number): void {
  const order = coefficients.length;
  for (let i = order; i < size; i++) {
    let sum = 0;
    for (let j = 0; j < order; j++) sum += coefficients[j] * s[i - 1 - j];
    s[i] += Math.floor(sum / divisor);
  }
}

/** Big-endian bits, as FLAC writes them, read through a 32-bit window: the Rice loop runs once per sample. */
class BitReader {
  /** The position in bits. */
  private position = 0;
  private readonly end: number;

  constructor(private readonly data: Uint8Array) {
    this.end = data.length * 8;
  }

  bytesLeft(): number {
    return this.data.length - Math.ceil(this.position / 8);
  }

  /** An unsigned value of `n` ≤ 32 bits. */
  bits(n: number): number {
    if (n === 0) return 0;
    if (this.position + n > this.end) throw new FlacError('the FLAC file ends in the middle of a frame');
    if (n > 24) return this.bits(n - 16) * 65536 + this.bits(16);
    const { data } = this;
    const at = this.position >>> 3;
    // Bytes past the end read as zero here; the check above keeps them out of the value.
    const window = ((data[at] << 24) | (data[at + 1] << 16) | (data[at + 2] << 8) | data[at + 3]) >>> 0;
    const value = ((window << (this.position & 7)) >>> 0) >>> (32 - n);
    this.position += n;
    return value;
  }

  /** A two's-complement value of `n` bits. */
  signed(n: number): number {
    if (n === 0) return 0;
    const value = this.bits(n);
    return value >= 2 ** (n - 1) ? value - 2 ** n : value;
  }

  /** The number of zero bits before the next one bit, which is consumed. */
  unary(): number {
    const { data } = this;
    let at = this.position >>> 3;
    let byte = (data[at] << (this.position & 7)) & 0xff;
    let found: number;
    if (byte !== 0) {
      found = this.position + Math.clz32(byte) - 24;
    } else {
      do {
        if (++at >= data.length) throw new FlacError('the FLAC file ends in the middle of a frame');
        byte = data[at];
      } while (byte === 0);
      found = at * 8 + Math.clz32(byte) - 24;
    }
    const zeros = found - this.position;
    this.position = found + 1;
    return zeros;
  }

  /** `count` Rice-coded values with `parameter` low bits into `out` from `at`: the loop every sample goes through. */
  rice(out: Int32Array, at: number, count: number, parameter: number): void {
    const { data } = this;
    const scale = 2 ** parameter;
    if (parameter > 24) {
      // Wider than the 32-bit window reaches; no 16-bit file needs it, but it is valid FLAC.
      for (let i = 0; i < count; i++) {
        const folded = this.unary() * scale + this.bits(parameter);
        out[at + i] = folded % 2 === 0 ? folded / 2 : -(folded + 1) / 2;
      }
      return;
    }
    let position = this.position;
    for (let i = 0; i < count; i++) {
      // The unary part: zeros up to the next one bit.
      let index = position >>> 3;
      let byte = (data[index] << (position & 7)) & 0xff;
      let found: number;
      if (byte !== 0) {
        found = position + Math.clz32(byte) - 24;
      } else {
        do {
          if (++index >= data.length) throw new FlacError('the FLAC file ends in the middle of a frame');
          byte = data[index];
        } while (byte === 0);
        found = index * 8 + Math.clz32(byte) - 24;
      }
      const high = found - position;
      position = found + 1;
      let low = 0;
      if (parameter > 0) {
        index = position >>> 3;
        const window = ((data[index] << 24) | (data[index + 1] << 16) | (data[index + 2] << 8) | data[index + 3]) >>> 0;
        low = ((window << (position & 7)) >>> 0) >>> (32 - parameter);
        position += parameter;
      }
      const folded = high * scale + low;
      out[at + i] = folded % 2 === 0 ? folded / 2 : -(folded + 1) / 2;
    }
    if (position > this.end) throw new FlacError('the FLAC file ends in the middle of a frame');
    this.position = position;
  }

  alignToByte(): void {
    this.position = Math.ceil(this.position / 8) * 8;
  }

  skipBytes(n: number): void {
    this.position += n * 8;
  }
}
