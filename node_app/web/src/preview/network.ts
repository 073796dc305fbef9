/**
 * Whether the browser asks to save data (the Save-Data setting) or is on a very slow connection: then the
 * preview loads nothing ahead of need, only what the preview being made uses.
 */
export function savesData(): boolean {
  const connection = (navigator as Navigator & { connection?: { saveData?: boolean; effectiveType?: string } }).connection;
  return connection?.saveData === true || /(^|-)2g$/.test(connection?.effectiveType ?? '');
}
