/** The audio a person has chosen to enrich: a file, a recording or an example clip. */
export interface AudioSource {
  blob: Blob;
  name: string;
  origin: 'file' | 'recording' | 'example';
}
