import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Validator } from 'jsonschema';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../node_app/server/config.js';
import { webCommand } from '../node_app/server/deploy/boot-probe.js';
import { makeClip } from './helpers/audio.js';
import { startTestServer } from './helpers/server.js';

interface AppJson {
  buildpacks: Array<{ url: string }>;
  env: Record<string, { value?: string }>;
  formation: Record<string, { quantity: number; size?: string }>;
  addons?: unknown[];
}

const root = path.resolve(import.meta.dirname, '..');
const appJson = JSON.parse(readFileSync(path.join(root, 'app.json'), 'utf8')) as AppJson;
const packageJson = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
  engines: { node: string };
  scripts: Record<string, string>;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

describe('Heroku deploy files', () => {
  it('app.json validates against Heroku\'s app.json schema', () => {
    // The schema Heroku's own MCP server validates app.json with before a deploy (its source: test/fixtures/README.md).
    const schemaFile = path.join(root, 'test/fixtures/heroku-app-json.schema.json');
    const result = new Validator().validate(appJson, JSON.parse(readFileSync(schemaFile, 'utf8')));
    expect(result.errors.map((e) => `${e.property} ${e.message}`)).toEqual([]);
  });

  it('app.json runs the apt buildpack before nodejs, so the Aptfile\'s ffmpeg is there, on one basic web dyno', () => {
    expect(existsSync(path.join(root, 'Aptfile'))).toBe(true);
    expect(appJson.buildpacks.map((b) => b.url)).toEqual(['heroku-community/apt', 'heroku/nodejs']);
    // No worker dyno and no add-on: a Heroku Button deploys the embedded mode; distributed mode is scaled up later.
    expect(appJson.formation).toEqual({ web: { quantity: 1, size: 'basic' }, worker: { quantity: 0, size: 'basic' } });
    expect(appJson.addons ?? []).toEqual([]);
  });

  it('the server starts with app.json\'s config vars, using the system ffmpeg', () => {
    const env = Object.fromEntries(Object.entries(appJson.env).map(([k, v]) => [k, v.value ?? '']));
    const config = loadConfig(env);
    expect(config).toMatchObject({ env: 'production', useSystemFfmpeg: true, workers: 1, redis: undefined, fileStorage: 'local' });
    expect(env.ONNXRUNTIME_NODE_INSTALL).toBe('skip');
  });

  it('the Procfile runs the compiled server that npm start runs, and the build makes it', () => {
    expect(webCommand(path.join(root, 'Procfile'))).toBe(packageJson.scripts.start);
    // The worker runs the same node settings on its own entry point.
    expect(readFileSync(path.join(root, 'Procfile'), 'utf8')).toContain(`worker: ${packageJson.scripts.start.replace('main.js', 'worker-main.js')}`);
    expect(packageJson.scripts['heroku-postbuild']).toContain('npm run build');
    expect(packageJson.scripts['heroku-cleanup']).toBeTruthy();
    // npm on any LTS line installs without an EBADENGINE warning (the scripts run on the `node` dev dependency);
    // Heroku installs the newest line the range allows, which must be the one the scripts run on.
    expect(packageJson.engines.node).toBe('20.x || 22.x || 24.x');
    expect(packageJson.devDependencies.node).toMatch(/^\^24\./);
    // Dev dependencies are pruned before the dyno starts: what the server imports must be a dependency.
    for (const runtime of ['express', 'onnxruntime-node', '@ffmpeg-installer/ffmpeg', 'pino', 'zod', 'wavefile', 'multer', 'bullmq', 'ioredis', '@aws-sdk/client-s3', '@aws-sdk/lib-storage', 'rate-limit-redis', 'range-parser']) {
      expect(packageJson.dependencies, runtime).toHaveProperty([runtime]);
    }
  });

  it('.slugignore drops the training code and tests but never the app or its model', () => {
    const patterns = readFileSync(path.join(root, '.slugignore'), 'utf8').split('\n').filter((l) => l && !l.startsWith('#'));
    expect(patterns).toContain('/models/training');
    expect(patterns).toContain('/test');
    for (const kept of ['node_app', 'models', 'models/enricher.onnx', 'models/manifest.json', 'dist', 'package.json', 'Procfile']) {
      expect(patterns.map((p) => p.replace(/^\//, '')), kept).not.toContain(kept);
    }
  });
});

describe('a restarted dyno', () => {
  it('starts from an empty data folder and answers 404 with a clear message for jobs it lost', async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'enricher-restart-'));
    const first = await startTestServer({ DATA_DIR: dataDir });
    const file = await makeClip({ seconds: 1, sampleRate: 44100, channels: 1, extension: 'wav' });
    const created = await request(first.app).post('/api/jobs').attach('audio', file).field({ style: 'rain' });
    expect(created.status).toBe(202);
    const id = created.body.id as string;
    await first.jobs.settled(id);
    await first.jobs.shutdown(0);
    await first.models.close();
    expect(await readdir(path.join(dataDir, 'jobs'))).toContain(id);

    const second = await startTestServer({ DATA_DIR: dataDir });
    try {
      for (const url of [`/api/jobs/${id}`, `/api/jobs/${id}/result`]) {
        const lost = await request(second.app).get(url);
        expect(lost.status).toBe(404);
        expect(lost.body.error.code).toBe('JOB_NOT_FOUND');
        expect(lost.body.error.message).toMatch(/expired.*Enrich the file again/);
      }
      expect(await readdir(path.join(dataDir, 'jobs'))).toEqual([]);
    } finally {
      await second.close();
    }
  });
});
