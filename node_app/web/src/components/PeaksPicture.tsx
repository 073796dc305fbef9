/** Vertical strokes of a peak list, one per peak, centred on the middle line of a 100-unit-high box. */
const strokes = (levels: readonly number[]) => levels.map((level, i) => `M${i + 0.5} ${50 - level * 48}V${50 + level * 48}`).join('');

interface Props {
  /** The input's levels, as far as the decoder has read. */
  input: readonly number[];
  /** The enriched levels, as far as the network has written. */
  result: readonly number[];
  /** How many peaks the whole picture will have, so it fills from the left instead of stretching. */
  total: number;
  label: string;
}

/**
 * A waveform drawn from the server's peaks while a job runs: the input in a light colour with the enriched
 * part over it. A few kilobytes of JSON instead of the whole audio file.
 */
export function PeaksPicture({ input, result, total, label }: Props) {
  const width = Math.max(total, input.length, result.length, 1);
  return (
    <figure className="waveform peaks-picture" data-state={input.length > 0 ? 'ready' : 'loading'}>
      <svg viewBox={`0 0 ${width} 100`} preserveAspectRatio="none" role="img" aria-label={label}>
        <path d={strokes(input)} className="peaks-input" vectorEffect="non-scaling-stroke" />
        <path d={strokes(result)} className="peaks-result" vectorEffect="non-scaling-stroke" />
      </svg>
      <figcaption>{label}</figcaption>
    </figure>
  );
}
