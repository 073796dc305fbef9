import { useEffect, useRef, useState } from 'react';

type Side = 'before' | 'after';

const CLIPS: Record<Side, string> = { before: '/examples/music-box.mp3', after: '/examples/music-box.rain.mp3' };

/**
 * What the app does, heard in one tap before choosing anything: an example clip and the same clip enriched
 * with rain. Switching sides keeps the moment, as on the result page.
 */
export function BeforeAfter() {
  const audio = useRef<HTMLAudioElement>(null);
  const [playing, setPlaying] = useState<Side | null>(null);
  useEffect(() => () => audio.current?.pause(), []);

  const play = (side: Side) => {
    const element = audio.current;
    if (!element) return;
    if (playing === side) {
      element.pause();
      setPlaying(null);
      return;
    }
    const at = playing ? element.currentTime : 0;
    element.src = CLIPS[side];
    element.currentTime = at;
    void element.play().then(
      () => setPlaying(side),
      () => setPlaying(null),
    );
  };

  return (
    <div className="before-after" role="group" aria-label="Hear an example">
      <span>Hear a music box</span>
      <button type="button" aria-pressed={playing === 'before'} onClick={() => play('before')}>
        {playing === 'before' ? '❚❚' : '▶'} Before
      </button>
      <button type="button" aria-pressed={playing === 'after'} onClick={() => play('after')}>
        {playing === 'after' ? '❚❚' : '▶'} With rain
      </button>
      <audio ref={audio} preload="none" onEnded={() => setPlaying(null)} />
    </div>
  );
}
