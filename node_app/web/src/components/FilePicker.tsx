import { useState, type DragEvent } from 'react';
import type { AudioSource } from '../lib/source';

/**
 * The big drop zone. The whole zone is the input's label, so a tap anywhere on it opens the file picker;
 * the input itself is visually hidden but keeps focus and its name, "Audio file", for keyboards and readers.
 * Several files chosen or dropped at once are an album.
 */
export function FilePicker({ onChoose, onChooseAlbum }: { onChoose: (source: AudioSource) => void; onChooseAlbum: (sources: AudioSource[]) => void }) {
  const [dragging, setDragging] = useState(false);
  const choose = (files: FileList | null | undefined) => {
    const sources = Array.from(files ?? [], (file): AudioSource => ({ blob: file, name: file.name, origin: 'file' }));
    if (sources.length > 1) onChooseAlbum(sources);
    else if (sources.length === 1) onChoose(sources[0]);
  };
  const onDrop = (event: DragEvent<HTMLLabelElement>) => {
    event.preventDefault();
    setDragging(false);
    choose(event.dataTransfer.files);
  };
  return (
    <label
      className={dragging ? 'dropzone dragging' : 'dropzone'}
      onDragOver={(event) => {
        event.preventDefault();
        setDragging(true);
      }}
      onDragLeave={() => setDragging(false)}
      onDrop={onDrop}
    >
      {/* No file-type filter beyond a hint: the server judges audio by decoding it, and phones hide files that a strict filter rejects. */}
      <input
        className="visually-hidden"
        type="file"
        multiple
        aria-label="Audio file"
        accept="audio/*,video/*,.mp3,.wav,.flac,.ogg,.opus,.m4a,.aac,.webm,.wma,.ac3,.eac3,.amr,.mka,.3gp"
        aria-describedby="audio-file-hint"
        onChange={(e) => {
          choose(e.target.files);
          // Choosing the same file again after a problem should still count as a choice.
          e.target.value = '';
        }}
      />
      <span className="dropzone-title">Choose an audio file</span>
      <span id="audio-file-hint" className="hint">
        <span className="on-touch">Tap here</span>
        <span className="on-pointer">Click here</span>, or drop a song, a voice memo or a loop — mp3, wav, flac, ogg, m4a, webm, wma, amr and
        more. Several at once make an album, downloaded as one zip.
      </span>
    </label>
  );
}
