import { useState, type DragEvent } from 'react';
import type { AudioSource } from '../lib/source';

/** The big drop zone; the input inside it is the "Audio file" control screen readers and tests find. */
export function FilePicker({ onChoose }: { onChoose: (source: AudioSource) => void }) {
  const [dragging, setDragging] = useState(false);
  const choose = (file: File | undefined) => {
    if (file) onChoose({ blob: file, name: file.name, origin: 'file' });
  };
  const onDrop = (event: DragEvent<HTMLDivElement>) => {
    event.preventDefault();
    setDragging(false);
    choose(event.dataTransfer.files[0]);
  };
  return (
    <div
      className={dragging ? 'dropzone dragging' : 'dropzone'}
      onDragOver={(event) => {
        event.preventDefault();
        setDragging(true);
      }}
      onDragLeave={() => setDragging(false)}
      onDrop={onDrop}
    >
      <label htmlFor="audio-file">Audio file</label>
      {/* No file-type filter beyond a hint: the server judges audio by decoding it, and phones hide files that a strict filter rejects. */}
      <input id="audio-file" type="file" accept="audio/*,video/*,.mp3,.wav,.flac,.ogg,.opus,.m4a,.aac,.webm" aria-describedby="audio-file-hint" onChange={(e) => choose(e.target.files?.[0])} />
      <p id="audio-file-hint" className="hint">
        Choose or drop a song, a voice memo or a loop — mp3, wav, flac, ogg, m4a or webm.
      </p>
    </div>
  );
}
