import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import express, { type Request, type RequestHandler, type Response, type Router } from 'express';
import helmet from 'helmet';
import { PAGE_PATHS } from '../contract/index.js';

/** Paths of the front end's own pages; any other non-API path is answered with the app's 404 page. */
const PAGES = [PAGE_PATHS.home, PAGE_PATHS.job(':id'), PAGE_PATHS.batch(':id'), PAGE_PATHS.about, PAGE_PATHS.faq];

/** Vite names these by content hash, so a browser may keep them for good. */
const HASHED_ASSETS = '/assets/';

/** Which file express.static is about to send in place of the one asked for, and what to label it. */
interface PrecompressedCopy {
  file: string;
  encoding: string;
  type: string;
}

const ENCODINGS = [
  { name: 'br', extension: '.br' },
  { name: 'gzip', extension: '.gz' },
] as const;

/**
 * The Content-Security-Policy, in two variants. `upgrade-insecure-requests` goes only to requests that came
 * over https: sent over plain http (a phone on the LAN opening http://<machine>:5000/) it makes the browser
 * fetch the scripts over https, which nothing answers, and the page stays white.
 */
export function contentSecurityPolicy(): RequestHandler {
  const directives = {
    // The preview compiles ONNX Runtime's WebAssembly; this allows that and no other eval.
    'script-src': ["'self'", "'wasm-unsafe-eval'"],
    // The page may read back the preview it made (a blob: URL is only ever the page's own).
    'connect-src': ["'self'", 'blob:'],
    'img-src': ["'self'", 'data:', 'blob:'],
    'media-src': ["'self'", 'blob:'],
    'worker-src': ["'self'", 'blob:'],
  };
  // Cross-origin isolation (helmet already sends COOP same-origin and CORP same-origin) gives the page
  // SharedArrayBuffer, which the preview's runtime needs to run on more than one thread. The page loads nothing
  // from another origin, so require-corp blocks nothing.
  const crossOriginEmbedderPolicy = { policy: 'require-corp' } as const;
  const overHttps = helmet({ contentSecurityPolicy: { directives }, crossOriginEmbedderPolicy });
  const overHttp = helmet({
    contentSecurityPolicy: { directives: { ...directives, 'upgrade-insecure-requests': null } },
    crossOriginEmbedderPolicy,
    strictTransportSecurity: false,
  });
  // req.secure reads X-Forwarded-Proto only from a proxy `TRUST_PROXY` allows (Heroku's router on a dyno).
  return (req, res, next) => (req.secure ? overHttps : overHttp)(req, res, next);
}

/**
 * Serves the built front end: files precompressed at build time (.br, .gz beside the original) when the
 * browser accepts them, hashed assets cached for a year, the pages' index.html, and the app's own 404 page
 * (with a 404 status) for any other path a browser asks for. Returns null when the front end is not built.
 */
export function webAssets(webDir: string): Router | null {
  const indexHtml = path.join(webDir, 'index.html');
  if (!existsSync(indexHtml)) return null;
  const precompressed = new Set(listFiles(webDir).filter((file) => ENCODINGS.some((e) => file.endsWith(e.extension))));

  const router = express.Router();
  router.use((req, res, next) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    const candidates = ENCODINGS.filter((e) => precompressed.has(req.path + e.extension));
    if (candidates.length === 0) return next();
    res.vary('Accept-Encoding');
    // Our order (br, then gzip), not the browser's: browsers list gzip first but decode br just as well.
    const encoding = candidates.find((e) => req.acceptsEncodings(e.name) === e.name);
    if (!encoding) return next();
    const precompressedCopy: PrecompressedCopy = { file: path.join(webDir, req.path + encoding.extension), encoding: encoding.name, type: path.extname(req.path) };
    res.locals.precompressedCopy = precompressedCopy;
    req.url = req.path + encoding.extension;
    next();
  });
  router.use(
    express.static(webDir, {
      index: false,
      setHeaders: (res: Response, file: string) => {
        const copy = res.locals.precompressedCopy as PrecompressedCopy | undefined;
        if (copy?.file === file) {
          res.setHeader('Content-Encoding', copy.encoding);
          // The type of what the copy decodes to, not application/x-brotli.
          res.type(copy.type);
        }
        const relative = `/${path.relative(webDir, file).split(path.sep).join('/')}`;
        res.setHeader('Cache-Control', relative.startsWith(HASHED_ASSETS) ? 'public, max-age=31536000, immutable' : 'public, max-age=3600');
      },
    }),
  );

  const sendIndex = (status: number) => (req: Request, res: Response) => {
    // The page is small and names the current hashed assets, so it is always revalidated.
    res.status(status).set('Cache-Control', 'no-cache');
    res.sendFile(indexHtml);
  };
  router.get(PAGES, sendIndex(200));
  // A browser that asks for a page gets the app's 404 page; anything else falls through to the JSON 404.
  router.get(/^\/(?!api\/|api$|assets\/)/, (req, res, next) => (req.accepts(['json', 'html']) === 'html' ? sendIndex(404)(req, res) : next()));
  return router;
}

function listFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => `/${path.relative(dir, path.join(entry.parentPath, entry.name)).split(path.sep).join('/')}`);
}
