import { StreamingLimiter } from './limiter.js';
import { concatPlanar } from './pcm.js';

/**
 * Loudness as streaming services and broadcasters measure it (ITU-R BS.1770-4, EBU R128): integrated loudness
 * in LUFS over gated 400 ms blocks of K-weighted audio, and the true peak in dBTP from 4× oversampling. Both are
 * `null` for audio too short or too quiet to have a reading (no block above the −70 LUFS gate, no sample).
 */
export interface LoudnessReading {
  integrated: number | null;
  truePeak: number | null;
}

/** The highest true peak a levelled result may have (EBU R128, and every streaming service's advice). */
export const TRUE_PEAK_LIMIT_DBTP = -1;
/** What the levelling aims under: other meters interpolate differently and may read a few tenths higher. */
const TRUE_PEAK_AIM_DBTP = -1.3;
/** How close to the target a pass must land; the promise is ±1 LU, and other meters may differ by a few tenths. */
const TOLERANCE_LU = 0.4;
/** A pass that missed is followed by another that corrects by what it missed, at most this many in all. */
export const MAX_LOUDNESS_PASSES = 5;
/** Gains beyond this would only raise the noise floor of near-silence. */
const MAX_GAIN_DB = 40;

const BLOCK_SUBBLOCKS = 4; // 400 ms blocks in 100 ms steps (75 % overlap)
const ABSOLUTE_GATE_LUFS = -70;
const RELATIVE_GATE_LU = -10;

/** Interpolation points between two samples for the true peak: 4× oversampling, as BS.1770 asks below 96 kHz. */
const OVERSAMPLING = 4;
/** Taps either side of an interpolated point: a 48-tap filter over the four phases, the size BS.1770's has. */
const HALF_TAPS = 6;
const PHASES = buildPhases();
/** The most a point between samples can exceed the largest of the samples it reads by. */
const POINT_GAIN = Math.max(...PHASES.map((phase) => phase.reduce((sum, tap) => sum + Math.abs(tap), 0)));

/** The point `phase` of the way from work[m] to work[m + 1], from work[m − 5 … m + 6]. */
function between(work: ArrayLike<number>, m: number, phase: Float64Array): number {
  let value = 0;
  for (let k = 0; k < phase.length; k++) value += phase[k] * work[m - HALF_TAPS + 1 + k];
  return value;
}

/** A windowed sinc per fractional position, normalised to unit DC gain. */
function buildPhases(): Float64Array[] {
  const phases: Float64Array[] = [];
  for (let p = 1; p < OVERSAMPLING; p++) {
    const frac = p / OVERSAMPLING;
    const taps = new Float64Array(2 * HALF_TAPS);
    let sum = 0;
    for (let k = 0; k < taps.length; k++) {
      const t = k - (HALF_TAPS - 1) - frac;
      const sinc = Math.sin(Math.PI * t) / (Math.PI * t);
      const window = 0.5 + 0.5 * Math.cos((Math.PI * t) / HALF_TAPS);
      taps[k] = sinc * window;
      sum += taps[k];
    }
    for (let k = 0; k < taps.length; k++) taps[k] /= sum;
    phases.push(taps);
  }
  return phases;
}

/** BS.1770's K-weighting (a high shelf, then a high pass) for any sample rate, as one biquad pair's coefficients. */
function kWeighting(sampleRate: number): { shelf: number[]; highPass: number[] } {
  const shelfK = Math.tan((Math.PI * 1681.974450955533) / sampleRate);
  const shelfQ = 0.7071752369554196;
  const vh = 10 ** (3.999843853973347 / 20);
  const vb = vh ** 0.4996667741545416;
  const a0 = 1 + shelfK / shelfQ + shelfK * shelfK;
  const shelf = [
    (vh + (vb * shelfK) / shelfQ + shelfK * shelfK) / a0,
    (2 * (shelfK * shelfK - vh)) / a0,
    (vh - (vb * shelfK) / shelfQ + shelfK * shelfK) / a0,
    (2 * (shelfK * shelfK - 1)) / a0,
    (1 - shelfK / shelfQ + shelfK * shelfK) / a0,
  ];
  const passK = Math.tan((Math.PI * 38.13547087602444) / sampleRate);
  const passQ = 0.5003270373238773;
  const p0 = 1 + passK / passQ + passK * passK;
  const highPass = [1, -2, 1, (2 * (passK * passK - 1)) / p0, (1 - passK / passQ + passK * passK) / p0];
  return { shelf, highPass };
}

/**
 * Measures integrated loudness and true peak over a stream of planar slices. Memory is one number per 100 ms
 * (6 000 for ten minutes) and a few samples of filter state per channel.
 */
export class LoudnessMeter {
  private readonly shelf: number[];
  private readonly highPass: number[];
  /** Per channel: the two biquads' states (x1, x2, y1, y2 each). */
  private readonly states: Float64Array[];
  /** Per channel: the last samples, for interpolating across slice borders. */
  private readonly history: Float64Array[];
  private readonly subblockFrames: number;
  private readonly subblocks: number[] = [];
  private energy = 0;
  private filled = 0;
  private peak = 0;
  private frames = 0;

  constructor(
    sampleRate: number,
    private readonly channelCount: number,
  ) {
    ({ shelf: this.shelf, highPass: this.highPass } = kWeighting(sampleRate));
    this.states = Array.from({ length: channelCount }, () => new Float64Array(8));
    this.history = Array.from({ length: channelCount }, () => new Float64Array(2 * HALF_TAPS - 1));
    this.subblockFrames = Math.max(1, Math.round(sampleRate / 10));
  }

  add(chunk: readonly Float32Array[]): void {
    const frames = chunk[0]?.length ?? 0;
    if (frames === 0) return;
    this.frames += frames;
    for (let c = 0; c < this.channelCount; c++) this.peak = Math.max(this.peak, this.truePeakOf(c, chunk[c]));
    let start = 0;
    while (start < frames) {
      const count = Math.min(frames - start, this.subblockFrames - this.filled);
      for (let c = 0; c < this.channelCount; c++) this.energy = this.weightedSquares(c, chunk[c], start, count, this.energy);
      this.filled += count;
      start += count;
      if (this.filled === this.subblockFrames) {
        this.subblocks.push(this.energy / this.subblockFrames);
        this.energy = 0;
        this.filled = 0;
      }
    }
  }

  reading(): LoudnessReading {
    // The last samples still sit in the interpolator's history: a copy is flushed with silence so the meter can go on.
    let peak = this.peak;
    for (let c = 0; c < this.channelCount; c++) {
      const saved = this.history[c].slice();
      peak = Math.max(peak, this.truePeakOf(c, new Float32Array(HALF_TAPS)));
      this.history[c].set(saved);
    }
    return {
      integrated: gatedLoudness(blocksOf(this.subblocks)),
      truePeak: this.frames > 0 && peak > 0 ? 20 * Math.log10(peak) : null,
    };
  }

  /**
   * The K-weighted mean squares of the 400 ms gating blocks so far: what an album's loudness is gated over,
   * with every song's blocks together (see {@link albumReading}).
   */
  blocks(): number[] {
    return blocksOf(this.subblocks);
  }

  /**
   * `sum` plus the K-weighted squares of `count` samples from `start`; advances the channel's filters. Added one
   * by one onto the running sum, so the reading is the same however the stream was sliced.
   */
  private weightedSquares(c: number, samples: Float32Array, start: number, count: number, sum: number): number {
    const [b0, b1, b2, a1, a2] = this.shelf;
    const [, , , h1, h2] = this.highPass;
    const s = this.states[c];
    let [x1, x2, y1, y2, u1, u2, v1, v2] = s;
    for (let i = start; i < start + count; i++) {
      const x = samples[i];
      const y = b0 * x + b1 * x1 + b2 * x2 - a1 * y1 - a2 * y2;
      x2 = x1;
      x1 = x;
      y2 = y1;
      y1 = y;
      const v = y - 2 * u1 + u2 - h1 * v1 - h2 * v2;
      u2 = u1;
      u1 = y;
      v2 = v1;
      v1 = v;
      sum += v * v;
    }
    s.set([x1, x2, y1, y2, u1, u2, v1, v2]);
    return sum;
  }

  /** The largest magnitude among the samples and the points interpolated between them, for one channel. */
  private truePeakOf(c: number, samples: Float32Array): number {
    const history = this.history[c];
    const span = history.length;
    const work = new Float64Array(span + samples.length);
    work.set(history);
    work.set(samples, span);
    let peak = 0;
    for (let i = 0; i < samples.length; i++) peak = Math.max(peak, Math.abs(samples[i]));
    for (let m = HALF_TAPS - 1; m + HALF_TAPS < work.length; m++) {
      for (const phase of PHASES) peak = Math.max(peak, Math.abs(between(work, m, phase)));
    }
    history.set(work.subarray(work.length - span));
    return peak;
  }
}

/** The 400 ms blocks, one every 100 ms, from the 100 ms energies. */
function blocksOf(subblocks: readonly number[]): number[] {
  const blocks: number[] = [];
  for (let j = 0; j + BLOCK_SUBBLOCKS <= subblocks.length; j++) {
    let sum = 0;
    for (let k = 0; k < BLOCK_SUBBLOCKS; k++) sum += subblocks[j + k];
    blocks.push(sum / BLOCK_SUBBLOCKS);
  }
  return blocks;
}

/**
 * An album's loudness, as one long programme (EBU R128 and ReplayGain's album mode): every song's gating blocks
 * gated together, so a quiet song weighs by its length and a silent stretch by nothing; the true peak is the
 * loudest of the songs'. Only the blocks that would straddle two songs are missing, a few tenths of a second each.
 */
export function albumReading(songs: ReadonlyArray<{ blocks: readonly number[]; truePeak: number | null }>): LoudnessReading {
  const peaks = songs.map((song) => song.truePeak).filter((peak) => peak !== null);
  return { integrated: gatedLoudness(songs.flatMap((song) => song.blocks)), truePeak: peaks.length > 0 ? Math.max(...peaks) : null };
}

/** BS.1770's two gates over the 400 ms blocks: blocks under −70 LUFS, then those 10 LU under the rest's mean. */
function gatedLoudness(blocks: readonly number[]): number | null {
  const lufs = (energy: number) => -0.691 + 10 * Math.log10(energy);
  const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
  const audible = blocks.filter((z) => z > 0 && lufs(z) > ABSOLUTE_GATE_LUFS);
  if (audible.length === 0) return null;
  const relativeGate = lufs(mean(audible)) + RELATIVE_GATE_LU;
  const gated = audible.filter((z) => lufs(z) > relativeGate);
  return lufs(mean(gated));
}

/** One levelling pass: a gain, then a look-ahead limiter whose ceiling keeps the true peak under the limit. */
export interface LevellingPass {
  gainDb: number;
  ceilingDb: number;
}

/** The first pass: the gain that would bring `measured` to `target` (none without a target or a reading). */
export function firstLevellingPass(target: number | null, measured: LoudnessReading): LevellingPass {
  const gainDb = target === null || measured.integrated === null ? 0 : target - measured.integrated;
  return { gainDb: Math.min(MAX_GAIN_DB, gainDb), ceilingDb: TRUE_PEAK_AIM_DBTP - 0.2 };
}

/**
 * The pass after one that gave `result`, or null when that one landed: within the tolerance of the target and
 * under the true-peak aim. A loudness short of the target (the limiter took some) raises the gain by the
 * shortfall; a true peak over the aim (a peak between samples) lowers the limiter's ceiling by the excess.
 */
export function nextLevellingPass(target: number | null, pass: LevellingPass, result: LoudnessReading): LevellingPass | null {
  const loudnessMiss = target === null || result.integrated === null ? 0 : target - result.integrated;
  const peakExcess = result.truePeak === null ? 0 : result.truePeak - TRUE_PEAK_AIM_DBTP;
  const missed = Math.abs(loudnessMiss) > TOLERANCE_LU && pass.gainDb < MAX_GAIN_DB;
  if (!missed && peakExcess <= 0) return null;
  return {
    gainDb: Math.min(MAX_GAIN_DB, pass.gainDb + (missed ? loudnessMiss : 0)),
    ceilingDb: pass.ceilingDb - Math.max(0, peakExcess + 0.05),
  };
}

/** How long the levelling limiter looks ahead: as long as the song limiter's, so it acts on peaks alone. */
const LEVELLING_LOOKAHEAD_SECONDS = 0.005;

/**
 * One pass over a stream: gain, then the limiter; `push` and `finish` as {@link StreamingLimiter}'s. The limiter
 * hears the points between the samples too (the true peak's 4× oversampling), as one more channel whose output is
 * dropped, so its ceiling holds for the true peak: a song whose peaks fall between its samples (bright noise,
 * cymbals) would otherwise pass a sample ceiling untouched and read over −1 dBTP. The points after a sample need
 * the six samples after it, so the stage gives out each sample six samples late; `finish` flushes them.
 */
export class LevellingStage {
  private readonly limiter: StreamingLimiter;
  private readonly gain: number;
  private readonly ceiling: number;
  /** Per channel: gained samples not given out yet, after the five before them that their points read. */
  private pending: Float32Array[];

  constructor(sampleRate: number, private readonly channelCount: number, pass: LevellingPass) {
    this.gain = 10 ** (pass.gainDb / 20);
    this.ceiling = 10 ** (pass.ceilingDb / 20);
    this.limiter = new StreamingLimiter(channelCount + 1, Math.round(LEVELLING_LOOKAHEAD_SECONDS * sampleRate), this.ceiling);
    this.pending = Array.from({ length: channelCount }, () => new Float32Array(HALF_TAPS - 1));
  }

  push(chunk: readonly Float32Array[]): Float32Array[] {
    return this.limit(chunk.map((channel) => channel.map((v) => v * this.gain)));
  }

  finish(): Float32Array[] {
    const tail = this.limit(this.pending.map(() => new Float32Array(HALF_TAPS)));
    return concatPlanar([tail, this.limiter.finish()], this.channelCount);
  }

  /**
   * Hands the limiter every sample whose six successors have come and, as the extra channel, the largest point
   * between each and the next over all channels; returns the limiter's output for the samples.
   */
  private limit(chunk: readonly Float32Array[]): Float32Array[] {
    const works = concatPlanar([this.pending, [...chunk]], this.channelCount);
    const ready = Math.max(0, works[0].length - 2 * HALF_TAPS + 1);
    const points = new Float32Array(ready);
    const [p1, p2, p3] = PHASES;
    for (const work of works) {
      // A point is at most POINT_GAIN times the largest sample it reads: where that stays under the ceiling, the
      // points cannot reach it and are not worked out (most of a levelled song).
      let loudest = 0;
      for (const v of work) loudest = Math.max(loudest, Math.abs(v));
      if (loudest * POINT_GAIN <= this.ceiling) continue;
      // The three points after sample k read work[k … k + 11]: one pass over them (this runs per sample).
      for (let k = 0; k < ready; k++) {
        let a = 0;
        let b = 0;
        let d = 0;
        for (let t = 0; t < 2 * HALF_TAPS; t++) {
          const w = work[k + t];
          a += p1[t] * w;
          b += p2[t] * w;
          d += p3[t] * w;
        }
        points[k] = Math.max(points[k], Math.abs(a), Math.abs(b), Math.abs(d));
      }
    }
    const samples = works.map((work) => work.subarray(HALF_TAPS - 1, HALF_TAPS - 1 + ready));
    this.pending = works.map((work) => work.slice(ready));
    return this.limiter.push([...samples, points]).slice(0, this.channelCount);
  }
}
