import type { Style } from '../api';
import { setShare, total, type Mix } from '../lib/mix';

/** One slider per style; moving one rebalances the others so the mix always adds up to 100 %. */
export function MixSliders({ styles, mix, onChange }: { styles: readonly Style[]; mix: Mix; onChange: (mix: Mix) => void }) {
  const ids = styles.map((s) => s.id);
  return (
    <fieldset className="mix-sliders">
      <legend>Mix by percentage</legend>
      {styles.map((style) => {
        const value = mix[style.id] ?? 0;
        return (
          <label key={style.id} className="mix-slider">
            <span>
              {style.label}: {value} %
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
        Total: {total(mix)} %
      </p>
    </fieldset>
  );
}
