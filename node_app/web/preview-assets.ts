import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Plugin } from 'vite';
import { grainSettings, loadManifest, mapBanks } from '../server/adapters/inference/manifest';
import { modelFileUrl } from '../server/model-files';
import type { PreviewFile, PreviewModel } from './src/preview/preview-model';

const MODULE_ID = 'virtual:preview-model';
const RESOLVED_ID = `\0${MODULE_ID}`;

/**
 * `import model from 'virtual:preview-model'`: the model and the banks' recordings as the browser's preview
 * loads them, at the URLs the server serves them from the models folder (node_app/server/model-files.ts), which
 * carry a hash of their bytes; the build copies none of them. Only the preview's lazily loaded worker imports
 * this module, so none of it weighs on the first page.
 */
export function previewAssets(modelsDir: string): Plugin {
  return {
    name: 'preview-assets',
    resolveId(source) {
      return source === MODULE_ID ? RESOLVED_ID : null;
    },
    async load(id) {
      if (id !== RESOLVED_ID) return null;
      const manifest = await loadManifest(modelsDir);
      const emitted = new Map<string, Promise<PreviewFile>>();
      const fileOf = (file: string): Promise<PreviewFile> => {
        let entry = emitted.get(file);
        if (!entry) {
          entry = readFile(file).then((bytes) => ({
            url: modelFileUrl(path.relative(modelsDir, file).split(path.sep).join('/'), bytes),
            bytes: bytes.length,
          }));
          emitted.set(file, entry);
        }
        return entry;
      };
      const { inputs, output, window, overlap, margin } = manifest.model;
      const grains = grainSettings(manifest);
      // As the server's generator: banks count only for a model that takes recordings as an input.
      const recorded = grains && inputs.texture ? await mapBanks(manifest, fileOf) : [];
      const model: PreviewModel = {
        version: manifest.version,
        sampleRate: manifest.sampleRate,
        defaultStyle: manifest.defaultStyle,
        signature: { inputs, output, window, styleCount: manifest.styles.length },
        overlap,
        ...(margin !== undefined ? { margin } : {}),
        ...(grains && inputs.texture ? { grains } : {}),
        model: await fileOf(manifest.modelPath),
        styles: manifest.styles.map(({ id, index, needsTexture }) => {
          const bank = recorded[index];
          return { id, index, ...(needsTexture ? { needsTexture } : {}), ...(bank ? { bank } : {}) };
        }),
      };
      return `export default ${JSON.stringify(model)};`;
    },
  };
}
