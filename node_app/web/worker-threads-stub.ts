/**
 * Stands in for Node's worker_threads in the browser build. wavesurfer's spectrogram plugin asks for it inside a
 * try, for when it runs under Node, and uses the browser's Worker when it is missing; naming this empty module
 * for it keeps Vite from warning on every build that it had to leave a Node module out.
 */
export {};
