import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import express, { type Router } from 'express';
import { loadManifest } from './adapters/inference/manifest.js';

/** Where the browser's preview loads the model and the banks' recordings from. */
export const MODEL_FILES_PREFIX = '/models/';

const IMMUTABLE = 'public, max-age=31536000, immutable';
const TYPES: Record<string, string> = { '.flac': 'audio/flac', '.onnx': 'application/octet-stream' };

/**
 * The URL a file of the models folder is served at: its path there (`relative`, with forward slashes) with 12 hex
 * digits of its bytes' SHA-256 before the extension. Other bytes get another URL, so a browser may keep each one
 * for good. The web build (node_app/web/preview-assets.ts) names the files the same way.
 */
export function modelFileUrl(relative: string, bytes: Uint8Array): string {
  const hash = createHash('sha256').update(bytes).digest('hex').slice(0, 12);
  const ext = path.posix.extname(relative);
  return `${MODEL_FILES_PREFIX}${relative.slice(0, relative.length - ext.length)}-${hash}${ext}`;
}

interface ServedFile {
  file: string;
  type: string;
  /** A gzip copy, made on first request, for the model (3.2 MB → 2.2 MB); FLAC is compressed already. */
  gzipped?: Promise<Buffer>;
}

/**
 * Serves the model and the banks' recordings that models/manifest.json names, and nothing else of the folder,
 * at {@link modelFileUrl}s, cached for a year as immutable: the files the browser's preview runs, straight from
 * the models folder, so the web build holds no second copy of them. A URL whose hash is not that of the file
 * now on disk is not found.
 */
export function modelFiles(modelsDir: string): Router {
  let served: Promise<Map<string, ServedFile>> | null = null;
  // Hashing 24 MB takes a moment, so it waits for the first request rather than slowing the server's start.
  const files = () =>
    (served ??= (async () => {
      const manifest = await loadManifest(modelsDir);
      const names = new Set([manifest.model.file, ...manifest.styles.flatMap((s) => (s.bank ? [...s.bank.bed, ...s.bank.events] : []))]);
      const entries = await Promise.all(
        [...names].map(async (name): Promise<[string, ServedFile]> => {
          const file = path.resolve(modelsDir, name);
          const url = modelFileUrl(path.relative(modelsDir, file).split(path.sep).join('/'), await readFile(file));
          return [url, { file, type: TYPES[path.extname(file)] ?? 'application/octet-stream' }];
        }),
      );
      return new Map(entries);
    })());

  const router = express.Router();
  router.get(/^\/models\//, async (req, res, next) => {
    let entry: ServedFile | undefined;
    try {
      entry = (await files()).get(req.path);
    } catch (error) {
      served = null;
      return next(error);
    }
    if (!entry) return next();
    res.set('Cache-Control', IMMUTABLE).type(entry.type);
    if (path.extname(entry.file) === '.onnx') {
      res.vary('Accept-Encoding');
      if (req.acceptsEncodings('gzip') === 'gzip') {
        const file = entry.file;
        entry.gzipped ??= readFile(file).then((bytes) => promisify(gzip)(bytes, { level: 9 }));
        try {
          return res.set('Content-Encoding', 'gzip').send(await entry.gzipped);
        } catch (error) {
          entry.gzipped = undefined;
          return next(error);
        }
      }
    }
    res.sendFile(entry.file, { cacheControl: false, lastModified: false }, (error) => error && !res.headersSent && next(error));
  });
  return router;
}
