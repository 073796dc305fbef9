import { z } from 'zod/mini';

/**
 * The `intensity` field: how much of `amount` each moment of the song gets, as `seconds:value` points
 * (`0:0,10:0,10.5:1,95:1,100:0.3`). Times are the song's own (a section's points keep the song's clock), values
 * go from 0 to 1, linear between points and held before the first and after the last.
 */
export type IntensityPoint = readonly [seconds: number, value: number];

/** Enough for a hand-drawn curve over a long song, and short enough that a form field stays small. */
export const MAX_INTENSITY_POINTS = 100;
/** The latest a point may sit: a day, as for `start` and `end`. */
const MAX_INTENSITY_SECONDS = 86_400;

const DECIMAL = /^(\d+(\.\d*)?|\.\d+)$/;

/** `text`: the curve as a job keeps it, each number as it was sent, without the spaces. */
export type IntensityParse = { points: IntensityPoint[]; text: string } | { problem: string };

/** Reads a curve, or says which point is wrong and why (points counted from 1). */
export function parseIntensity(text: string): IntensityParse {
  const items = text.split(',').map((item) => item.trim());
  if (items.length > MAX_INTENSITY_POINTS) return { problem: `has ${items.length} points; a curve may have at most ${MAX_INTENSITY_POINTS}` };
  const points: IntensityPoint[] = [];
  const canonical: string[] = [];
  for (const [index, item] of items.entries()) {
    const point = `point ${index + 1} ("${item.length > 24 ? `${item.slice(0, 24)}…` : item}")`;
    const parts = item.split(':').map((part) => part.trim());
    if (parts.length !== 2) return { problem: `${point} must be seconds:value, such as 10.5:0.8` };
    const [time, value] = parts;
    if (!DECIMAL.test(time)) return { problem: `${point}: "${time}" is not a number of seconds` };
    if (!DECIMAL.test(value)) return { problem: `${point}: "${value}" is not a number from 0 to 1` };
    const seconds = Number(time);
    const level = Number(value);
    if (seconds > MAX_INTENSITY_SECONDS) return { problem: `${point}: the time must be at most ${MAX_INTENSITY_SECONDS} seconds` };
    if (level > 1) return { problem: `${point}: the value must be from 0 to 1` };
    const previous = points.at(-1);
    if (previous && seconds <= previous[0]) return { problem: `${point}: times must increase; ${seconds} s does not come after ${previous[0]} s` };
    points.push([seconds, level]);
    canonical.push(`${time}:${value}`);
  }
  return { points, text: canonical.join(',') };
}

/** A drawn curve as the field's text, to the millisecond and the thousandth (what the web app's editor sends). */
export function formatIntensity(points: readonly IntensityPoint[]): string {
  return points.map(([seconds, value]) => `${Math.round(seconds * 1000) / 1000}:${Math.round(value * 1000) / 1000}`).join(',');
}

/** The points of a curve already validated (a job's parameters, a recipe). */
export function intensityPoints(text: string): IntensityPoint[] {
  const parsed = parseIntensity(text);
  if ('problem' in parsed) throw new RangeError(`intensity ${parsed.problem}`);
  return parsed.points;
}

/** A curve as text, checked: a malformed one is an issue that names the point. */
export const intensityTextSchema = z.string().check(
  z.describe(
    `how much of amount each moment of the song gets: seconds:value points such as 0:0,10:0,10.5:1,95:1,100:0.3, times increasing, values 0 to 1, ` +
      `at most ${MAX_INTENSITY_POINTS} points; linear between points, held before the first and after the last; in the song's own time, also for a section`,
  ),
  z.superRefine((text, context) => {
    const parsed = parseIntensity(text);
    if ('problem' in parsed) context.addIssue({ code: 'custom', message: parsed.problem });
  }),
);

/** The form's field: a curve as text in, the text a job keeps out (see {@link IntensityParse}). */
export const intensityFieldSchema = z.pipe(
  intensityTextSchema,
  z.transform((text: string) => {
    const parsed = parseIntensity(text);
    return 'text' in parsed ? parsed.text : text;
  }),
);
