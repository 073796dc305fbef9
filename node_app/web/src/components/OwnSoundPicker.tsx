import { useState } from 'react';
import { OWN_TEXTURE_SECONDS } from '../../../contract';
import { probeAudio } from '../lib/check';
import type { AudioSource } from '../lib/source';
import { Recorder } from './Recorder';

interface Props {
  texture: AudioSource | null;
  onChoose: (texture: AudioSource | null) => void;
}

/**
 * "Your own sound": the recording the style "own" weaves into the music — rain on your window, a café, a
 * kettle. Picked or recorded here, checked for length before anything is sent.
 */
export function OwnSoundPicker({ texture, onChoose }: Props) {
  const [problem, setProblem] = useState<string | null>(null);
  const choose = async (next: AudioSource) => {
    setProblem(null);
    const { duration: seconds, audio } = await probeAudio(next.blob);
    if (!audio) {
      setProblem(`${next.name} is not audio this page can read. Choose a recording (mp3, wav, m4a, ogg …).`);
      onChoose(null);
      return;
    }
    if (seconds !== null && (seconds < OWN_TEXTURE_SECONDS.min || seconds > OWN_TEXTURE_SECONDS.max)) {
      setProblem(`${next.name} is ${Math.round(seconds)} s long; your own sound must be ${OWN_TEXTURE_SECONDS.min} s to ${OWN_TEXTURE_SECONDS.max / 60} minutes.`);
      onChoose(null);
      return;
    }
    onChoose(next);
  };
  return (
    <div className="own-sound" role="group" aria-labelledby="own-sound-title">
      <h3 id="own-sound-title">Your own sound</h3>
      <p className="hint">
        {OWN_TEXTURE_SECONDS.min} s to {OWN_TEXTURE_SECONDS.max / 60} minutes of any sound: it is woven in like the rain, never looped, its pops and calls as events.
      </p>
      <label className="own-sound-file">
        Choose a recording
        <input
          type="file"
          accept="audio/*,video/webm,.wav,.mp3,.flac,.ogg,.opus,.m4a,.aac,.webm"
          onChange={(event) => {
            const file = event.target.files?.[0];
            if (file) void choose({ blob: file, name: file.name, origin: 'file' });
          }}
        />
      </label>
      <Recorder onRecorded={(recording) => void choose(recording)} />
      {texture && (
        <p aria-live="polite">
          Your sound: <strong>{texture.name}</strong>
        </p>
      )}
      {problem && (
        <p role="alert" className="own-sound-problem">
          {problem}
        </p>
      )}
    </div>
  );
}
