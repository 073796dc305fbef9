import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import react from '@vitejs/plugin-react';
import { defineConfig, type Plugin } from 'vite';
import { previewAssets } from './preview-assets';

const here = path.dirname(fileURLToPath(import.meta.url));

/**
 * Writes a .br and a .gz copy beside each text asset, at the best levels, once at build time; the server
 * sends the copy the browser accepts (node_app/server/web-assets.ts) instead of compressing per request. The
 * preview's WebAssembly runtime gets a .gz copy only (14 MB → 3.7 MB): brotli would save a little more but adds
 * tens of seconds to every build at the levels that do.
 */
function precompress(): Plugin {
  return {
    name: 'precompress',
    apply: 'build',
    async writeBundle(options, bundle) {
      const outDir = options.dir ?? path.resolve(here, '../../dist/web');
      const names = Object.keys(bundle);
      const write = async (name: string, brotli: boolean) => {
        const file = path.join(outDir, name);
        const data = await readFile(file);
        // Below one packet compression saves nothing a browser would notice.
        if (data.length < 1024) return;
        if (brotli) await writeFile(`${file}.br`, brotliCompressSync(data, { params: { [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY } }));
        await writeFile(`${file}.gz`, gzipSync(data, { level: 9 }));
      };
      await Promise.all([
        ...names.filter((name) => /\.(js|css|html|svg|json)$/.test(name)).map((name) => write(name, true)),
        ...names.filter((name) => name.endsWith('.wasm')).map((name) => write(name, false)),
      ]);
    },
  };
}

export default defineConfig({
  root: here,
  plugins: [react(), precompress(), previewAssets(path.resolve(here, '../../models'))],
  // The preview's worker loads ONNX Runtime as a module.
  worker: { format: 'es', plugins: () => [previewAssets(path.resolve(here, '../../models'))] },
  resolve: { alias: { worker_threads: path.resolve(here, 'worker-threads-stub.ts') } },
  build: {
    outDir: path.resolve(here, '../../dist/web'),
    emptyOutDir: true,
    sourcemap: false,
  },
  server: {
    proxy: { '/api': 'http://localhost:5000', '/models': 'http://localhost:5000', '/healthz': 'http://localhost:5000', '/readyz': 'http://localhost:5000' },
  },
});
