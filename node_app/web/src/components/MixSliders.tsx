import type { Style } from '../api';
import { setShare, total, type Mix } from '../lib/mix';

/**
 * One slider per style; moving one rebalances the others so the mix always adds up to 100 %. The only style
 * in the mix stays at 100 % (see setShare), and says so.
 */
export function MixSliders({ styles, mix, onChange }: { styles: readonly Style[]; mix: Mix; onChange: (mix: Mix) => void }) {
  const ids = styles.map((s) => s.id);
  return (
    <fieldset className="mix-sliders">
      <legend>Mix by percentage</legend>
      {styles.map((style) => {
        const value = mix[style.id] ?? 0;
        return (
          <label key={style.id} className="mix-slider">
            {/* A no-break space: "0" and "%" on two lines read as two numbers. */}
            <span>
              {style.label}: {value}&nbsp;%
            </span>
            <input
              type="range"
              min={0}
              max={100}
              step={1}
              value={value}
              aria-valuetext={`${value} %`}
              onChange={(e) => onChange(setShare(mix, ids, style.id, Number(e.target.value)))}
            />
          </label>
        );
      })}
      <p className="mix-total" aria-live="polite">
        Total: {total(mix)}&nbsp;%. A mix needs one style at least: to lower the only one, raise another.
      </p>
    </fieldset>
  );
}
