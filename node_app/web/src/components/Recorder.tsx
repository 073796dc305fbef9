import { useEffect, useRef, useState } from 'react';
import type { AudioSource } from '../lib/source';
import { formatDuration } from '../lib/format';

/** Recordings stop by themselves here, so a forgotten microphone does not fill the upload limit. */
export const RECORDING_LIMIT_SECONDS = 60;

interface Session {
  recorder: MediaRecorder;
  stream: MediaStream;
  context: AudioContext;
  frame: number;
  timer: number;
}

/** Records from the microphone with MediaRecorder, with a level meter and a time limit. */
export function Recorder({ onRecorded }: { onRecorded: (source: AudioSource) => void }) {
  const [recording, setRecording] = useState(false);
  const [level, setLevel] = useState(0);
  const [elapsed, setElapsed] = useState(0);
  const [problem, setProblem] = useState<string | null>(null);
  const session = useRef<Session | null>(null);

  const release = () => {
    const current = session.current;
    if (!current) return;
    session.current = null;
    cancelAnimationFrame(current.frame);
    clearInterval(current.timer);
    current.stream.getTracks().forEach((track) => track.stop());
    void current.context.close();
  };
  useEffect(() => release, []);

  async function start() {
    setProblem(null);
    if (!navigator.mediaDevices?.getUserMedia || typeof MediaRecorder === 'undefined') {
      setProblem(window.isSecureContext ? 'This browser cannot record. Choose a file instead.' : 'Recording needs a secure page (https, or this computer at localhost). Choose a file instead.');
      return;
    }
    let stream: MediaStream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    } catch {
      setProblem('The microphone is not available. Allow access to it in the browser, or choose a file.');
      return;
    }
    const recorder = new MediaRecorder(stream);
    const chunks: Blob[] = [];
    recorder.addEventListener('dataavailable', (event) => chunks.push(event.data));
    recorder.addEventListener('stop', () => {
      release();
      setRecording(false);
      setLevel(0);
      const type = recorder.mimeType || 'audio/webm';
      const extension = type.includes('mp4') ? 'm4a' : type.includes('ogg') ? 'ogg' : 'webm';
      onRecorded({ blob: new Blob(chunks, { type }), name: `recording.${extension}`, origin: 'recording' });
    });

    const context = new AudioContext();
    const analyser = context.createAnalyser();
    analyser.fftSize = 1024;
    context.createMediaStreamSource(stream).connect(analyser);
    const samples = new Float32Array(analyser.fftSize);
    const started = performance.now();
    const current: Session = { recorder, stream, context, frame: 0, timer: 0 };
    const measure = () => {
      analyser.getFloatTimeDomainData(samples);
      let peak = 0;
      for (const sample of samples) peak = Math.max(peak, Math.abs(sample));
      setLevel(peak);
      current.frame = requestAnimationFrame(measure);
    };
    current.timer = window.setInterval(() => {
      const seconds = (performance.now() - started) / 1000;
      setElapsed(seconds);
      if (seconds >= RECORDING_LIMIT_SECONDS && recorder.state === 'recording') recorder.stop();
    }, 200);
    session.current = current;
    measure();
    recorder.start();
    setElapsed(0);
    setRecording(true);
  }

  const stop = () => {
    if (session.current?.recorder.state === 'recording') session.current.recorder.stop();
  };

  return (
    <div className="recorder">
      {recording ? (
        <button type="button" className="record stop" onClick={stop}>
          ■ Stop recording
        </button>
      ) : (
        <button type="button" className="record" onClick={() => void start()}>
          ● Record
        </button>
      )}
      {recording && (
        <div className="recording-status">
          <label htmlFor="input-level">Input level</label>
          <meter id="input-level" min={0} max={1} low={0.6} high={0.9} optimum={0.3} value={level} />
          <span role="timer" aria-live="off">
            {formatDuration(elapsed)} / {formatDuration(RECORDING_LIMIT_SECONDS)}
          </span>
        </div>
      )}
      {problem && <p role="alert">{problem}</p>}
    </div>
  );
}

