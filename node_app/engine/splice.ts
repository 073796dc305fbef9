/**
 * `keep=whole`: the whole song comes back with only a section enriched. The song's planar slices are split at
 * the section's frames: what comes before and after it passes through untouched, the section goes through
 * `enrich` (which may read ahead of what it has answered) and its answer takes its place. Over the first and
 * last {@link SPLICE_FADE_SECONDS} of the section the answer is faded in from the untouched song and back out to
 * it, so the style's sound neither starts nor stops with a click.
 */

/** Long enough to hide a step in the waveform, short enough not to be heard as a fade. */
export const SPLICE_FADE_SECONDS = 0.05;

export interface SpliceSection {
  /** The section's first frame. */
  from: number;
  /** The frame after the section's last; past the song's end, the section runs to the end (and is not faded out). */
  to: number;
  /** Frames over which the answer is faded in and out, each at most half the section. */
  fadeFrames: number;
}

export async function* spliceSection(
  song: AsyncIterable<Float32Array[]>,
  section: SpliceSection,
  enrich: (sectionChunks: AsyncIterable<Float32Array[]>) => AsyncIterable<Float32Array[]>,
): AsyncGenerator<Float32Array[]> {
  const { from, to } = section;
  const length = to - from;
  const fade = Math.min(section.fadeFrames, Math.floor(length / 2));
  const reader = song[Symbol.asyncIterator]();
  /** Song frames read so far, including `rest`. */
  let read = 0;
  /** What the last slice read holds past the point handed on. */
  let rest: Float32Array[] | null = null;
  const next = async (): Promise<Float32Array[] | null> => {
    if (rest) {
      const slice = rest;
      rest = null;
      return slice;
    }
    const step = await reader.next();
    if (step.done) return null;
    read += step.value[0]?.length ?? 0;
    return step.value;
  };
  /** Song frames handed on so far: those read, less what is kept for later. */
  const handedOn = (): number => read - (rest === null ? 0 : rest[0].length);
  /** The slice's part before song frame `at`; the remainder is kept as `rest`. */
  const before = (slice: Float32Array[], at: number): Float32Array[] => {
    const cut = Math.max(0, Math.min(slice[0].length, at - (read - slice[0].length)));
    if (cut === slice[0].length) return slice;
    rest = slice.map((channel) => channel.subarray(cut));
    return slice.map((channel) => channel.subarray(0, cut));
  };

  try {
    // Before the section: as it came.
    while (handedOn() < from) {
      const slice = await next();
      if (!slice) return;
      const part = before(slice, from);
      if (part[0].length > 0) yield part;
    }
    // The untouched song at the section's two edges, for the fades: the model's workers take the slices' buffers.
    const edges = { head: [] as Float32Array[], tail: [] as Float32Array[] };
    let taken = 0;
    const keepEdges = (slice: Float32Array[]) => {
      slice.forEach((channel, c) => {
        edges.head[c] ??= new Float32Array(fade);
        edges.tail[c] ??= new Float32Array(fade);
        for (let i = 0; i < channel.length; i++) {
          const at = taken + i;
          if (at < fade) edges.head[c][at] = channel[i];
          if (at >= length - fade && at < length) edges.tail[c][at - (length - fade)] = channel[i];
        }
      });
      taken += slice[0].length;
    };
    async function* sectionChunks(): AsyncGenerator<Float32Array[]> {
      while (handedOn() < to) {
        const slice = await next();
        if (!slice) return;
        const part = before(slice, to);
        if (part[0].length === 0) continue;
        // Copied: the part may share its buffer with what follows the section, and the worker takes it.
        const own = part.map((channel) => channel.slice());
        keepEdges(own);
        yield own;
      }
    }

    let written = 0;
    for await (const answer of enrich(sectionChunks())) {
      const out = answer.map((channel) => Float32Array.from(channel));
      out.forEach((channel, c) => {
        for (let i = 0; i < channel.length; i++) {
          const at = written + i;
          // Faded in only where the song came before it, out only where the section ends inside the song.
          const gain = at < fade && from > 0 ? rise((at + 0.5) / fade) : at >= length - fade && at < length ? rise((length - at - 0.5) / fade) : 1;
          if (gain === 1) continue;
          const dry = at < fade ? edges.head[c][at] : edges.tail[c][at - (length - fade)];
          channel[i] = dry + gain * (channel[i] - dry);
        }
      });
      written += out[0].length;
      yield out;
    }
    // After the section: as it came.
    for (let slice = await next(); slice; slice = await next()) yield slice;
  } finally {
    await reader.return?.();
  }
}

function rise(phase: number): number {
  return Math.sin((Math.PI / 2) * Math.min(1, Math.max(0, phase))) ** 2;
}
