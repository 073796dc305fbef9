import { describe, expect, it } from 'vitest';
import { mixToSpec, setShare, specToMix, toPercentages, total } from './mix';

const IDS = ['rain', 'blues', 'vinyl', 'piano'];

describe('the mix sliders', () => {
  it('keep the total at 100 % whichever slider moves, wherever to', () => {
    let mix = toPercentages({ rain: 1 });
    let state = 7;
    for (let move = 0; move < 500; move++) {
      state = (state * 1103515245 + 12345) % 2147483648;
      const id = IDS[state % IDS.length];
      const alone = mix[id] === 100;
      mix = setShare(mix, IDS, id, state % 101);
      expect(total(mix)).toBe(100);
      expect(mix[id]).toBe(alone ? 100 : state % 101);
      expect(Object.values(mix).every((p) => Number.isInteger(p) && p >= 0)).toBe(true);
    }
  });

  it('give what a slider frees to the others in proportion to their shares', () => {
    const mix = setShare({ rain: 50, blues: 30, vinyl: 20, piano: 0 }, IDS, 'rain', 0);
    expect(mix).toEqual({ rain: 0, blues: 60, vinyl: 40, piano: 0 });
  });

  it('keep the only style of a mix at 100 % rather than hand its share to styles nobody chose', () => {
    expect(setShare({ rain: 100 }, IDS, 'rain', 0)).toEqual({ rain: 100, blues: 0, vinyl: 0, piano: 0 });
    expect(setShare({ rain: 100, blues: 0 }, IDS, 'rain', 40)).toEqual({ rain: 100, blues: 0, vinyl: 0, piano: 0 });
    // Raising another is how to move away from it.
    expect(setShare({ rain: 100 }, IDS, 'blues', 40)).toEqual({ rain: 60, blues: 40, vinyl: 0, piano: 0 });
  });

  it('write the API style field and read it back', () => {
    expect(mixToSpec({ rain: 100, blues: 0 })).toBe('rain');
    expect(mixToSpec({ rain: 70, blues: 30 })).toBe('rain:0.7,blues:0.3');
    expect(specToMix('rain:0.7,blues:0.3', IDS)).toEqual({ rain: 70, blues: 30 });
    expect(specToMix('rain:0.333,blues:0.333,vinyl:0.333', IDS)).toEqual({ rain: 34, blues: 33, vinyl: 33 });
    expect(specToMix('thunder', IDS)).toBeNull();
  });
});
