import { channelKey, hashAt } from './random.js';

/**
 * A style's recordings at the model's rate, as 16-bit samples (read as value / 32768): the **bed** it is woven
 * from (rain, surf, crackle …, several clips) and single **events** (a thunder clap, a breaking wave, a call).
 */
export interface Bank {
  bed: readonly Int16Array[];
  events: readonly Int16Array[];
  /** Mean samples between two events. */
  eventEvery: number;
  /** Samples per bed segment, where the style wants other than {@link GrainSettings.segment} (surf: whole swells). */
  segment?: number;
}

/** Banks by style index; styles the model makes without recordings (genres, tape) have none. */
export type StyleBanks = ReadonlyArray<Bank | undefined>;

/** How the bed is cut and joined, and how much events vary, in samples and dB (manifest `model.grains`). */
export interface GrainSettings {
  segment: number;
  fade: number;
  eventSpreadDb: number;
  /** Mean samples between events drawn from a user's own recording. */
  ownEventEvery: number;
}

const PCM_SCALE = 1 / 32768;
/** RMS of every bed clip in the banks (models/training/banks.py): the level the network was trained on. */
const BED_RMS = 0.1;
/** A recording has events only where it stands this far above its median level… */
const EVENT_RISE_DB = 9;
/**
 * …and where a sound starts: this far over the 80 ms before it. A clap, a pop or a call starts so; the crest of
 * a gust or a swell rises over a second, and cut out as an event it would land as a thud (heard as thunder).
 */
const ONSET_RISE_DB = 10;
const MAX_OWN_EVENTS = 8;

/** dB from the median of 10-ms frames f−10 … f−3 (the 80 ms ending 20 ms before frame f) up to frame f. */
function onsetRise(level: Float64Array, f: number): number {
  if (f < 3) return 0; // nothing before it to rise from
  const before = Array.from(level.subarray(Math.max(0, f - 10), f - 2)).sort((a, b) => a - b);
  return level[f] - before[Math.floor(before.length / 2)];
}

/**
 * A user's recording at the model's rate, brought to the banks' level and to the banks' 16-bit samples. A
 * silent recording stays silent.
 */
export function normaliseRecording(pcm: Float32Array): Int16Array {
  let power = 0;
  for (const v of pcm) power += v * v;
  const rms = Math.sqrt(power / Math.max(1, pcm.length));
  const gain = rms > 1e-6 ? BED_RMS / rms : 0;
  // Peaks past full scale are rare at −20 dBFS RMS; they are clipped rather than lowering the whole bed.
  const out = new Int16Array(pcm.length);
  for (let i = 0; i < pcm.length; i++) out[i] = Math.max(-32768, Math.min(32767, Math.round(pcm[i] * gain * 32768)));
  return out;
}

/**
 * A user's recording as a bank of one: the whole recording is the bed, and its own loudest onsets — frames of
 * 10 ms at least {@link EVENT_RISE_DB} over its median level and {@link ONSET_RISE_DB} over the 80 ms before
 * them, 0.5 s apart, loudest first, up to eight — are its events, each 0.6 s from 20 ms before the frame, faded
 * out over its last 0.2 s. Training makes the own style's events the same way (models/training/grains.py,
 * `events_from_recording`; v4.0.0 was trained before the onset rule, on any frame 9 dB over the median).
 */
export function bankFromRecording(pcm: Int16Array, eventEvery: number, rate = 44100): Bank {
  const frame = Math.round(rate / 100);
  const frames = Math.floor(pcm.length / frame);
  const level = new Float64Array(frames);
  for (let f = 0; f < frames; f++) {
    let sum = 0;
    for (let i = f * frame; i < (f + 1) * frame; i++) sum += (pcm[i] * PCM_SCALE) ** 2;
    level[f] = 10 * Math.log10(sum / frame + 1e-10);
  }
  const median = [...level].sort((a, b) => a - b)[Math.floor(frames / 2)] ?? 0;
  const gap = Math.round((0.5 * rate) / frame);
  const picked: number[] = [];
  const loudestFirst = Array.from(level.keys()).sort((a, b) => level[b] - level[a] || a - b);
  for (const f of loudestFirst) {
    if (level[f] < median + EVENT_RISE_DB || picked.length === MAX_OWN_EVENTS) break;
    if (onsetRise(level, f) >= ONSET_RISE_DB && picked.every((p) => Math.abs(f - p) >= gap)) picked.push(f);
  }
  const length = Math.round(0.6 * rate);
  const events = picked
    .sort((a, b) => a - b)
    .map((f) => {
      const start = Math.max(0, f * frame - Math.round(0.02 * rate));
      const clip = Int16Array.from(pcm.subarray(start, start + length));
      const fadeOut = Math.min(Math.floor(clip.length / 2), Math.round(0.2 * rate));
      for (let t = 0; t < fadeOut; t++) clip[clip.length - 1 - t] = Math.round(clip[clip.length - 1 - t] * (t / fadeOut));
      for (let t = 0; t < Math.min(32, clip.length); t++) clip[t] = Math.round(clip[t] * (t / 32));
      return clip;
    })
    .filter((clip) => clip.length >= 64);
  return { bed: [pcm], events, eventEvery };
}

/**
 * A style's bed as one endless stream addressed by position: segment j covers [j·segment, (j+1)·segment + fade)
 * and is read from a place in the bank drawn from a hash of (key, j), fading in over its first `fade` samples
 * (segment 0 starts the song at full level) and out over its last. Neighbouring segments come from unrelated
 * places, so equal-power fades (sin/cos) keep the level, and a song of any length never hears a stretch come
 * round as a loop would. Any window, worker or section reads the same samples at the same positions.
 */
class BedStream {
  private readonly segment: number;
  private readonly fade: number;
  private readonly fadeIn: Float32Array;
  /** Where each clip's usable starts end, cumulated: a hash picks a start uniformly over the whole bank. */
  private readonly ends: number[] = [];

  constructor(
    private readonly clips: readonly Int16Array[],
    segment: number,
    settings: GrainSettings,
    private readonly key: number,
  ) {
    // Segments fit twice into the shortest clip, so each is drawn from several places; a bank of one clip (a
    // user's 3-s recording) takes three, so its grains still land at many places. A fade takes at most a fifth
    // of a segment (1 s of 5): two grains sounding together half the time would smear a short recording's
    // crackle into a wash.
    const shortest = Math.min(...clips.map((c) => c.length));
    this.segment = Math.min(segment, Math.floor(shortest / (clips.length > 1 ? 2 : 3)));
    this.fade = Math.min(settings.fade, Math.floor(this.segment / 5));
    // sin(π/2 · t/fade) for t = 0 … fade: a segment fades in along it and out along it backwards (cos).
    this.fadeIn = Float32Array.from({ length: this.fade + 1 }, (_, t) => Math.sin((Math.PI / 2) * (t / this.fade)));
    let total = 0;
    for (const clip of clips) this.ends.push((total += clip.length - this.segment - this.fade + 1));
  }

  /** Adds `gain` × the stream at positions [position, position + out.length) to `out`. */
  addTo(out: Float32Array, position: number, gain: number): void {
    const { segment, fade, fadeIn } = this;
    const end = position + out.length;
    for (let j = Math.max(0, Math.floor((position - fade) / segment)); j * segment < end; j++) {
      const start = j * segment;
      const { clip, offset } = this.source(j);
      const from = Math.max(position, start);
      const to = Math.min(end, start + segment + fade);
      // Three runs, so the loop over every sample of the song does not branch: fading in (not the song's first
      // segment), whole, fading out. Sample p reads clip[p + at] and writes out[p - position].
      const at = offset - start;
      const scale = gain * PCM_SCALE;
      const whole = j > 0 ? Math.max(from, Math.min(to, start + fade)) : from;
      const fading = Math.max(whole, Math.min(to, start + segment));
      for (let p = from; p < whole; p++) out[p - position] += scale * fadeIn[p - start] * clip[p + at];
      for (let p = whole; p < fading; p++) out[p - position] += scale * clip[p + at];
      for (let p = fading; p < to; p++) out[p - position] += scale * fadeIn[fade - (p - start - segment)] * clip[p + at];
    }
  }

  private source(j: number): { clip: Int16Array; offset: number } {
    const total = this.ends[this.ends.length - 1];
    const r = hashAt(this.key, j) % total;
    let c = 0;
    while (r >= this.ends[c]) c++;
    return { clip: this.clips[c], offset: r - (c > 0 ? this.ends[c - 1] : 0) };
  }
}

/**
 * A style's events as one stream addressed by position: slot m of `eventEvery` samples holds one event, at a
 * place in the slot, of a clip and at a level (0 to −eventSpreadDb) all drawn from a hash of (key, m). Events
 * may run past their slot. The network decides how much of each is heard (its event gain follows the music).
 */
class EventStream {
  private readonly longest: number;

  constructor(
    private readonly clips: readonly Int16Array[],
    private readonly every: number,
    private readonly spreadDb: number,
    private readonly key: number,
  ) {
    this.longest = Math.max(...clips.map((c) => c.length));
  }

  addTo(out: Float32Array, position: number, gain: number): void {
    const { every } = this;
    const end = position + out.length;
    for (let m = Math.floor((position - this.longest) / every) - 1; m * every < end; m++) {
      const at = m * every + (hashAt(this.key, 3 * m) % every);
      const clip = this.clips[hashAt(this.key, 3 * m + 1) % this.clips.length];
      const level = gain * PCM_SCALE * 10 ** ((-this.spreadDb * (hashAt(this.key, 3 * m + 2) / 2 ** 32)) / 20);
      const from = Math.max(position, at);
      const to = Math.min(end, at + clip.length);
      for (let p = from; p < to; p++) out[p - position] += level * clip[p - at];
    }
  }
}

/**
 * What one channel of a song hears of its styles' recordings: for each style in the mix that has a bank, its
 * bed and its events, each at √weight (the power of a mix of unrelated recordings stays that of one), each
 * style's streams keyed by (seed, channel, style) so channels and styles never share a draw.
 */
export class TextureReader {
  private readonly beds: { stream: BedStream; gain: number }[] = [];
  private readonly events: { stream: EventStream; gain: number }[] = [];

  constructor(banks: StyleBanks, settings: GrainSettings, weights: Float32Array, seed: number, channel: number) {
    banks.forEach((bank, style) => {
      if (!bank || !(weights[style] > 0) || bank.bed.length === 0) return;
      const gain = Math.sqrt(weights[style]);
      const key = hashAt(channelKey(seed, channel), style);
      this.beds.push({ stream: new BedStream(bank.bed, bank.segment ?? settings.segment, settings, key), gain });
      if (bank.events.length > 0) {
        this.events.push({ stream: new EventStream(bank.events, bank.eventEvery, settings.eventSpreadDb, hashAt(key, -1)), gain });
      }
    });
  }

  /** The bed mix at positions [position, position + out.length). */
  fillBed(out: Float32Array, position: number): Float32Array {
    out.fill(0);
    for (const { stream, gain } of this.beds) stream.addTo(out, position, gain);
    return out;
  }

  /** The event mix at positions [position, position + out.length). */
  fillEvents(out: Float32Array, position: number): Float32Array {
    out.fill(0);
    for (const { stream, gain } of this.events) stream.addTo(out, position, gain);
    return out;
  }
}
