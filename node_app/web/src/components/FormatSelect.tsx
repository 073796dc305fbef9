import { OUTPUT_FORMATS, type OutputFormat } from '../api';

/** A labelled choice of output format, used before enriching (Pro panel) and when downloading. */
export function FormatSelect({ label, value, onChange }: { label: string; value: OutputFormat; onChange: (format: OutputFormat) => void }) {
  return (
    <label>
      {label}
      <select value={value} onChange={(e) => onChange(e.target.value as OutputFormat)}>
        {OUTPUT_FORMATS.map((format) => (
          <option key={format} value={format}>
            {format.toUpperCase()}
          </option>
        ))}
      </select>
    </label>
  );
}
