import { safeFileName, type JobParams, type ResultPart, type Style } from '../../contract/index.js';
import type { MediaTags } from '../adapters/media/wav.js';

/** The licence a result that uses a CC BY-SA recording is an adaptation under, and must be shared under. */
const SHARE_ALIKE = { id: 'CC-BY-SA-3.0', name: 'CC BY-SA 3.0', url: 'https://creativecommons.org/licenses/by-sa/3.0/' };

/** What a job needs to be credited: its parameters and the name of the file it enriched. */
export interface CreditedJob {
  params: JobParams;
  input: { name: string };
}

/** The styles of a job's mix that play recordings, with their credit lines and licences. */
export function creditedStyles(params: JobParams, styles: readonly Style[]): Style[] {
  return styles.filter((style) => (params.weights[style.id] ?? 0) > 0 && style.credit);
}

/**
 * The credits, licence and recipe of a result, in words that travel with the file wherever it goes: which
 * styles at what weights, amount and seed; who made the recordings the styles play, under which licences;
 * and, when one is CC BY-SA, that the result is an adaptation of it and is shared under the same licence.
 */
export function creditLines(job: CreditedJob, styles: readonly Style[]): string[] {
  const { params } = job;
  const extras = [
    params.loudness === undefined ? null : `loudness ${params.loudness === 'match' ? 'matched to the input' : `${params.loudness} LUFS`}`,
    params.start === undefined && params.end === undefined ? null : `section ${params.start ?? 0}–${params.end ?? 'end'} s`,
    params.intensity === undefined ? null : `intensity ${params.intensity}`,
  ].filter((extra) => extra !== null);
  const lines = [`Made with The Noise Enricher: style ${params.style}, amount ${params.amount}, seed ${params.seed}${extras.map((e) => `, ${e}`).join('')}.`];
  const credited = creditedStyles(params, styles);
  if (credited.some((style) => style.license === SHARE_ALIKE.id)) {
    lines.push(`This result is an adaptation of recordings licensed under ${SHARE_ALIKE.name} and is shared under ${SHARE_ALIKE.name} (${SHARE_ALIKE.url}).`);
  }
  for (const style of credited) lines.push(`${style.label}: ${style.credit} (licence ${style.license}).`);
  if (credited.length === 0) lines.push('The styles used play no recorded sound of others: nothing to credit beyond the input.');
  return lines;
}

/** The tags every file of a result carries (the mix, or the added layer alone). */
export function resultTags(job: CreditedJob, styles: readonly Style[], part: ResultPart = 'mix'): MediaTags {
  const name = safeFileName(job.input.name.replace(/\.[^.]*$/, '')) || 'audio';
  const credited = creditedStyles(job.params, styles);
  const licences = [...new Set(credited.map((style) => style.license))];
  return {
    title: `${name} (${part === 'layer' ? 'the added layer' : 'enriched'}: ${job.params.style})`,
    comment: creditLines(job, styles).join(' '),
    copyright: licences.includes(SHARE_ALIKE.id)
      ? `Adaptation under ${SHARE_ALIKE.name} of recordings under ${licences.join(', ')}; credits in the comment.`
      : licences.length > 0
        ? `Uses recordings under ${licences.join(', ')}; credits in the comment.`
        : 'No recordings of others are used.',
  };
}
