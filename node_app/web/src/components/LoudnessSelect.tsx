import { MATCH_LOUDNESS, type LoudnessTarget } from '../../../contract';

/** The targets people ask for by name; the API takes any level from −30 to −5 LUFS. */
const CHOICES: readonly { value: LoudnessTarget | undefined; label: string }[] = [
  { value: undefined, label: 'As made' },
  { value: MATCH_LOUDNESS, label: 'Match the original' },
  { value: -14, label: 'Streaming (−14 LUFS)' },
  { value: -16, label: 'Apple Music (−16 LUFS)' },
  { value: -23, label: 'Broadcast (−23 LUFS)' },
];

const keyOf = (value: LoudnessTarget | undefined) => (value === undefined ? '' : String(value));
const valueOf = (key: string): LoudnessTarget | undefined => (key === '' ? undefined : key === MATCH_LOUDNESS ? MATCH_LOUDNESS : Number(key));

/** The result's loudness target: as made, the original's, or a platform's level (true peak ≤ −1 dBTP). */
export function LoudnessSelect({ value, onChange }: { value: LoudnessTarget | undefined; onChange: (value: LoudnessTarget | undefined) => void }) {
  const known = CHOICES.some((choice) => choice.value === value);
  return (
    <label>
      Loudness
      <select value={keyOf(value)} onChange={(e) => onChange(valueOf(e.target.value))}>
        {CHOICES.map((choice) => (
          <option key={keyOf(choice.value)} value={keyOf(choice.value)}>
            {choice.label}
          </option>
        ))}
        {!known && typeof value === 'number' && <option value={keyOf(value)}>{value} LUFS (from a recipe)</option>}
      </select>
    </label>
  );
}
