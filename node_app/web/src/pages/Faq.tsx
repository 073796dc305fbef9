import type { Limits } from '../api';
import { formatBytes, formatDuration } from '../lib/format';
import { usePageTitle } from '../lib/title';

/** This server's own limits, as GET /api/limits states them; until they have come, only what always holds. */
function sizeAnswer(limits: Limits | null): string {
  const pick = 'For longer pieces, choose a section in the Pro panel.';
  if (!limits) return `The server says so before uploading when a file is over its limits. ${pick}`;
  return `Up to ${formatBytes(limits.maxUploadBytes)} and ${formatDuration(limits.maxDurationSeconds)} (minutes:seconds) of audio on this server; it says so before uploading when a file is over. ${pick}`;
}

const questions = (limits: Limits | null): ReadonlyArray<{ q: string; a: string }> => [
  {
    q: 'Which formats can I upload?',
    a: 'Anything the server can decode: mp3, wav, flac, ogg and opus, m4a and aac, wma, ac3, amr, mka and 3gp, and the webm a browser records. The server judges a file by decoding it, not by its name.',
  },
  { q: 'Which formats can I download?', a: 'WAV (16-bit), MP3, FLAC and OGG. Pick one next to the Download link; you can download the same result in several.' },
  { q: 'How large or long can a file be?', a: sizeAnswer(limits) },
  {
    q: 'What happens to my files?',
    a: 'Your upload and the result are kept on the server only so you can listen, download and share them, then deleted: after an hour by default (the result page says when). On a server that keeps them on its own disk they are also gone when it restarts. Nobody looks at them, and they are not used for training.',
  },
  { q: 'Who can open a share link?', a: 'Anyone who has the link, until the result expires. The link is a long random id that cannot be guessed.' },
  { q: 'Why does the same file sound different each time?', a: 'The generated sound has a random part, picked by the seed. Set the seed in the Pro panel, or use a recipe, to get exactly the same result again.' },
  { q: 'The server says it is busy.', a: 'Only a few files are enriched at once on this server. Wait a minute and press Enrich again.' },
];

export function Faq({ limits }: { limits: Limits | null }) {
  usePageTitle('FAQ');
  return (
    <article className="prose" aria-labelledby="faq-title">
      <h1 id="faq-title">Questions</h1>
      {questions(limits).map(({ q, a }) => (
        <section key={q}>
          <h2>{q}</h2>
          <p>{a}</p>
        </section>
      ))}
    </article>
  );
}
