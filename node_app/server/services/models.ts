import type { ModelService, ModelState } from './model-service.js';

/**
 * What the rest of the app uses of the models: their life cycle, the style catalog and enrichment. The real one
 * is `ModelService` (ONNX Runtime in worker threads); service tests hand the composition root a fake.
 */
export type Models = Pick<ModelService, 'start' | 'close' | 'catalog' | 'enrich'> & { readonly state: ModelState };
