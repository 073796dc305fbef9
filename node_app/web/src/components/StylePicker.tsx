import type { Style, StyleKind } from '../api';
import type { Settings } from '../lib/settings';

const GROUPS: ReadonlyArray<{ title: string; kinds: readonly StyleKind[] }> = [
  { title: 'Genres', kinds: ['genre'] },
  { title: 'Nature', kinds: ['nature'] },
  { title: 'Instruments and textures', kinds: ['instrument', 'texture'] },
];

/** The single style a mix is, when it is one style at 100 %. */
export function singleStyle(settings: Settings): string | null {
  const chosen = Object.entries(settings.mix).filter(([, p]) => p > 0);
  return !settings.surprise && chosen.length === 1 ? chosen[0][0] : null;
}

interface Props {
  styles: readonly Style[];
  settings: Settings;
  onChange: (settings: Settings) => void;
}

/**
 * Styles as a compact grid of tiles grouped by kind, the chosen one's description under the grid, the
 * amount slider and "surprise me".
 */
export function StylePicker({ styles, settings, onChange }: Props) {
  const selected = singleStyle(settings);
  const described = styles.find((s) => s.id === selected);
  return (
    <fieldset className="style-picker">
      {/* Named for screen readers; on screen, "2. Your style" right above already says it. */}
      <legend className="visually-hidden">Style</legend>
      {GROUPS.map((group) => {
        const members = styles.filter((s) => group.kinds.includes(s.kind));
        if (members.length === 0) return null;
        return (
          <div key={group.title} className="style-group" role="group" aria-labelledby={`group-${group.kinds[0]}`}>
            <h3 id={`group-${group.kinds[0]}`}>{group.title}</h3>
            <div className="style-options">
              {members.map((style) => (
                <label key={style.id} className="style-option" title={style.description}>
                  <input
                    type="radio"
                    name="style"
                    value={style.id}
                    checked={selected === style.id}
                    aria-describedby={selected === style.id ? 'style-description' : undefined}
                    onChange={() => onChange({ ...settings, surprise: false, mix: { [style.id]: 100 } })}
                  />
                  <span className="style-label">{style.label}</span>
                </label>
              ))}
            </div>
          </div>
        );
      })}
      {described && (
        <p id="style-description" className="style-description">
          <strong>{described.label}:</strong> {described.description}
        </p>
      )}
      <div className="surprise">
        {/* The seed stays the person's: a surprise draws a new mix on every Enrich unless they set one. */}
        <button type="button" aria-pressed={settings.surprise} onClick={() => onChange({ ...settings, surprise: true })}>
          Surprise me
        </button>
        {settings.surprise && (
          <p role="status">
            {settings.seed === undefined
              ? 'A random mix of styles, drawn anew each time you press Enrich. The result shows which.'
              : `A random mix of styles, picked by your seed ${settings.seed}. The result shows which.`}
          </p>
        )}
        {!settings.surprise && selected === null && <p className="hint">Your own mix from the Pro panel.</p>}
      </div>
      <label className="amount">
        Amount: {Math.round(settings.amount * 100)} %
        <input
          type="range"
          min={0}
          max={1}
          step={0.05}
          value={settings.amount}
          onChange={(e) => onChange({ ...settings, amount: Number(e.target.value) })}
        />
      </label>
    </fieldset>
  );
}
