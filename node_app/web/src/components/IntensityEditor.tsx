import { useEffect, useRef, useState, type KeyboardEvent, type PointerEvent, type ReactNode } from 'react';
import { formatIntensity, MAX_INTENSITY_POINTS, parseIntensity, type IntensityPoint } from '../../../contract';

interface Props {
  /** The curve as the `intensity` field takes it; undefined for the whole amount throughout. */
  value?: string;
  /** The audio's length in seconds (null when unknown): the width the curve is drawn over. */
  duration: number | null;
  onChange: (value: string | undefined) => void;
  /** The waveform the curve is drawn over. */
  children: ReactNode;
  /** The waveform's height in pixels: the curve's area covers it. */
  height: number;
}

/** Points closer than this in time would round to the same millisecond, or be impossible to tell apart. */
const MIN_GAP_SECONDS = 0.01;
const VALUE_STEP = 0.05;

const clamp = (value: number, low: number, high: number) => Math.min(high, Math.max(low, value));
const percent = (value: number) => `${Math.round(value * 100)} %`;
const seconds = (value: number) => `${Math.round(value * 100) / 100} s`;

/**
 * The intensity curve drawn over the waveform: points to drag (time across, intensity up), a click on the
 * curve's area adds one, a double click on a point removes it. Each point is a slider for the keyboard: arrows
 * up and down change its intensity, left and right move it in time (Shift: further), Delete removes it. The
 * curve is also shown, and can be typed, as the text the API takes.
 */
export function IntensityEditor({ value, duration, onChange, children, height }: Props) {
  const area = useRef<HTMLDivElement>(null);
  const dragging = useRef<number | null>(null);
  const [text, setText] = useState(value ?? '');
  const [problem, setProblem] = useState<string | null>(null);
  // What the text field last sent: the field is left as typed (spaces and all) while it is what set the curve.
  const typedValue = useRef<string | undefined>(undefined);
  const parsed = value === undefined ? null : parseIntensity(value);
  const points: IntensityPoint[] = parsed && 'points' in parsed ? parsed.points : [];
  const span = Math.max(duration ?? 0, points.at(-1)?.[0] ?? 0, 1);

  useEffect(() => {
    if (typedValue.current === value) return;
    typedValue.current = undefined;
    setText(value ?? '');
    setProblem(null);
  }, [value]);

  const commit = (next: IntensityPoint[]) => onChange(formatIntensity(next));

  const enable = (on: boolean) => {
    onChange(on ? formatIntensity([[0, 1], [Math.max(MIN_GAP_SECONDS, Math.round((duration ?? 10) * 100) / 100), 1]]) : undefined);
  };

  const positionOf = (event: { clientX: number; clientY: number }): IntensityPoint | null => {
    const box = area.current?.getBoundingClientRect();
    if (!box || box.width === 0 || box.height === 0) return null;
    return [clamp((event.clientX - box.left) / box.width, 0, 1) * span, clamp(1 - (event.clientY - box.top) / box.height, 0, 1)];
  };

  /** Point `index` moved to `to`, kept between its neighbours so the times still increase. */
  const moved = (index: number, to: IntensityPoint): IntensityPoint[] => {
    const low = index > 0 ? points[index - 1][0] + MIN_GAP_SECONDS : 0;
    const high = index < points.length - 1 ? points[index + 1][0] - MIN_GAP_SECONDS : Math.max(span, to[0]);
    return points.map((point, i) => (i === index ? [clamp(to[0], low, high), clamp(to[1], 0, 1)] : point));
  };

  const add = (point: IntensityPoint) => {
    if (points.length >= MAX_INTENSITY_POINTS) return;
    if (points.some(([time]) => Math.abs(time - point[0]) < MIN_GAP_SECONDS)) return;
    commit([...points, point].sort((a, b) => a[0] - b[0]));
  };

  const remove = (index: number) => {
    if (points.length > 1) commit(points.filter((_, i) => i !== index));
  };

  /** Adds a point halfway along the widest gap between points, on the curve: the keyboard's way to add one. */
  const addBetween = () => {
    const edges: IntensityPoint[] = [[0, points[0]?.[1] ?? 1], ...points, [span, points.at(-1)?.[1] ?? 1]];
    let widest = 0;
    for (let i = 1; i < edges.length; i++) if (edges[i][0] - edges[i - 1][0] > edges[widest + 1][0] - edges[widest][0]) widest = i - 1;
    const [[t0, v0], [t1, v1]] = [edges[widest], edges[widest + 1]];
    add([Math.round(((t0 + t1) / 2) * 1000) / 1000, Math.round(((v0 + v1) / 2) * 1000) / 1000]);
  };

  const onAreaPointerDown = (event: PointerEvent<HTMLDivElement>) => {
    if (event.target !== event.currentTarget) return;
    const point = positionOf(event);
    if (point) add(point);
  };

  const onPointPointerDown = (index: number) => (event: PointerEvent<HTMLButtonElement>) => {
    dragging.current = index;
    event.currentTarget.setPointerCapture?.(event.pointerId);
  };
  const onPointPointerMove = (index: number) => (event: PointerEvent<HTMLButtonElement>) => {
    if (dragging.current !== index) return;
    const point = positionOf(event);
    if (point) commit(moved(index, point));
  };
  const onPointPointerUp = () => {
    dragging.current = null;
  };

  const onPointKey = (index: number) => (event: KeyboardEvent<HTMLButtonElement>) => {
    const [time, level] = points[index];
    const stepTime = event.shiftKey ? Math.max(1, span / 10) : Math.max(0.1, span / 100);
    const moves: Record<string, IntensityPoint> = {
      ArrowUp: [time, level + VALUE_STEP],
      ArrowDown: [time, level - VALUE_STEP],
      ArrowRight: [time + stepTime, level],
      ArrowLeft: [time - stepTime, level],
      Home: [time, 0],
      End: [time, 1],
    };
    if (event.key in moves) {
      event.preventDefault();
      commit(moved(index, moves[event.key]));
    } else if (event.key === 'Delete' || event.key === 'Backspace') {
      event.preventDefault();
      remove(index);
    }
  };

  const typed = (next: string) => {
    setText(next);
    const result = next.trim() === '' ? null : parseIntensity(next);
    if (result && 'problem' in result) {
      setProblem(`The curve's ${result.problem}.`);
      return;
    }
    setProblem(null);
    typedValue.current = result?.text;
    onChange(result?.text);
  };

  // The line runs from the left edge to the right one: the first and last values are held outside the points.
  const line = points.length
    ? [[0, points[0][1]] as const, ...points, [span, points.at(-1)?.[1] ?? 1] as const].map(([t, v]) => `${(t / span) * 1000},${(1 - v) * 100}`).join(' ')
    : '';

  return (
    <div className="intensity-editor">
      <label className="check">
        <input type="checkbox" checked={value !== undefined} onChange={(e) => enable(e.target.checked)} />
        Shape the intensity over time
      </label>
      <div className="intensity-stack">
        {children}
        {value !== undefined && (
          <div
            ref={area}
            className="intensity-area"
            style={{ height }}
            role="group"
            aria-label="Intensity over time: click to add a point, drag a point to move it, double-click it to remove it"
            onPointerDown={onAreaPointerDown}
          >
            <svg viewBox="0 0 1000 100" preserveAspectRatio="none" aria-hidden="true">
              <polyline points={line} />
            </svg>
            {points.map(([time, level], index) => (
              <button
                key={index}
                type="button"
                className="intensity-point"
                role="slider"
                aria-label={`Point ${index + 1} at ${seconds(time)}`}
                aria-valuemin={0}
                aria-valuemax={100}
                aria-valuenow={Math.round(level * 100)}
                aria-valuetext={`${percent(level)} at ${seconds(time)}`}
                style={{ left: `${(time / span) * 100}%`, top: `${(1 - level) * 100}%` }}
                onPointerDown={onPointPointerDown(index)}
                onPointerMove={onPointPointerMove(index)}
                onPointerUp={onPointPointerUp}
                onDoubleClick={() => remove(index)}
                onKeyDown={onPointKey(index)}
              />
            ))}
          </div>
        )}
      </div>
      {value !== undefined && (
        <>
          <div className="intensity-fields">
            <button type="button" onClick={addBetween} disabled={points.length >= MAX_INTENSITY_POINTS}>
              Add a point
            </button>
            <label>
              Curve (seconds:intensity)
              <input type="text" value={text} spellCheck={false} aria-invalid={problem !== null} onChange={(e) => typed(e.target.value)} />
            </label>
          </div>
          {problem && (
            <p className="hint" role="alert">
              {problem}
            </p>
          )}
        </>
      )}
    </div>
  );
}
