/**
 * What went wrong with a piece of media, in the codec's own terms. The adapters throw these and know nothing
 * of HTTP; the services turn them into API errors with stable codes (services/media-failures.ts).
 */
export type MediaProblem =
  /** ffmpeg finds no audio stream in the file. */
  | 'not-audio'
  /** A container outside the whitelist: a playlist, a stream description, an image sequence. */
  | 'unsupported-container'
  /** Audio that decodes to no samples. */
  | 'no-audio'
  /** `start` lies at or past the end of the audio. */
  | 'start-past-end'
  /** The decoder refused the audio, or crashed on it. */
  | 'undecodable'
  | 'decode-timeout'
  | 'too-long'
  /** ffmpeg was killed from outside while decoding: the file is not to blame. */
  | 'decoder-killed'
  /** ffmpeg could not be started at all. */
  | 'ffmpeg-unavailable'
  | 'encode-failed'
  | 'encode-timeout'
  | 'disk-full';

export class MediaError extends Error {
  constructor(
    readonly problem: MediaProblem,
    message: string,
    readonly details: {
      /** For too-long: the limit that was passed; for start-past-end: how long the audio is (when known). */
      limitSeconds?: number;
      /** For unsupported-container: what the file was recognised as, in words a user knows ("an HLS playlist"). */
      container?: string;
    } = {},
  ) {
    super(message);
    this.name = 'MediaError';
  }
}
