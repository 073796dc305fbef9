import { useState } from 'react';
import type { AudioSource } from '../lib/source';

interface ExampleClip {
  file: string;
  title: string;
  description: string;
}

/** Clips made for this project (see public/examples/README.md for how, and their CC0 licence). */
export const EXAMPLES: readonly ExampleClip[] = [
  { file: 'music-box.mp3', title: 'Music box', description: 'A plucked melody, 8 seconds.' },
  { file: 'drum-loop.mp3', title: 'Drum loop', description: 'Kick and hi-hat at 120 BPM, 8 seconds.' },
  { file: 'voice-memo.mp3', title: 'Voice memo', description: 'A spoken note, synthesised, 7 seconds.' },
];

/** Example clips that play at once and can be enriched with one tap. */
export function Examples({ onEnrich, busy }: { onEnrich: (source: AudioSource) => void; busy: boolean }) {
  const [problem, setProblem] = useState<string | null>(null);
  const enrich = async (clip: ExampleClip) => {
    setProblem(null);
    try {
      const response = await fetch(`/examples/${clip.file}`);
      if (!response.ok) throw new Error(String(response.status));
      onEnrich({ blob: await response.blob(), name: clip.file, origin: 'example' });
    } catch {
      setProblem('The example could not be loaded. Check your connection.');
    }
  };
  return (
    <section className="examples" aria-labelledby="examples-title">
      <h2 id="examples-title">Or try an example</h2>
      <ul>
        {EXAMPLES.map((clip) => (
          <li key={clip.file}>
            <p>
              <strong>{clip.title}</strong> — {clip.description}
            </p>
            <audio controls preload="none" src={`/examples/${clip.file}`} aria-label={`Play ${clip.title}`} />
            <button type="button" disabled={busy} onClick={() => void enrich(clip)}>
              Enrich “{clip.title}”
            </button>
          </li>
        ))}
      </ul>
      <p className="hint">Example clips made by this project, free to use (CC0).</p>
      {problem && <p role="alert">{problem}</p>}
    </section>
  );
}
