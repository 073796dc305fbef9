import type { Style } from '../api';
import { usePageTitle } from '../lib/title';

const STEPS = [
  { title: 'Your audio', text: 'Any format: it is decoded to plain samples.' },
  { title: 'Windows', text: 'Cut into overlapping pieces of about 3 s.' },
  { title: 'Neural network', text: 'Listens to each piece and shapes the style’s sound to fit it: a real recording for nature styles and vinyl, a generated layer for the others.' },
  { title: 'Mix', text: 'Pieces are cross-faded back together, mixed in at your amount, and kept below clipping.' },
  { title: 'Enriched audio', text: 'Same length, same sample rate, same channels.' },
];

/** What the network does, in plain words, with a picture of the pipeline and credits for the recordings it plays. */
export function About({ styles }: { styles: Style[] }) {
  const credited = styles.filter((style) => style.credit);
  usePageTitle('How it works');
  return (
    <article className="prose" aria-labelledby="about-title">
      <h1 id="about-title">How it works</h1>
      <p>
        Noise cancellation takes sound away. The Noise Enricher adds it: it listens to your music and adds the sound of a style —
        rain that thickens when the song swells, thunder on the hits, the crackle of vinyl, a blues band’s colour — so that the
        added sound follows the music’s loudness and rhythm instead of being pasted on top.
      </p>
      <figure className="pipeline">
        <ol>
          {STEPS.map((step) => (
            <li key={step.title}>
              <strong>{step.title}</strong>
              <span>{step.text}</span>
            </li>
          ))}
        </ol>
        <figcaption>From your file to the enriched file, all on our server.</figcaption>
      </figure>
      <p>
        The network is small. For rain, thunder, the sea, wind, birds, fire and vinyl it plays real recordings and learnt how
        to shape them to the music: louder over loud passages, thunder on the big hits, room left where the music is busy. The
        genres, piano and tape were learnt from music rendered for this project. Each style is a point in what the network has
        learnt, which is why styles can be mixed: a mix is a point in between. The seed picks the random part of the sound and
        where in each recording it starts, so the same file, styles, amount and seed always give the same result.
      </p>
      <p>It runs on an ordinary server’s processor; a song of a few minutes takes a few seconds to a minute.</p>
      {credited.length > 0 && (
        <section aria-labelledby="credits-title">
          <h2 id="credits-title">Recordings</h2>
          <ul className="credits">
            {credited.map((style) => (
              <li key={style.id}>
                <strong>{style.label}</strong>: {style.credit}
                {style.license && (
                  <>
                    {' '}
                    (<a href={`https://spdx.org/licenses/${style.license}.html`}>{style.license}</a>)
                  </>
                )}
              </li>
            ))}
          </ul>
        </section>
      )}
    </article>
  );
}
