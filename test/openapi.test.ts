import type { Express } from 'express';
import { Validator } from 'jsonschema';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OPERATIONS } from '../node_app/server/routes/openapi.js';
import { makeClip } from './helpers/audio.js';
import { startTestServer, type TestServer } from './helpers/server.js';

interface Layer {
  route?: { path: string | string[]; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
}

/** Every method and path the app mounts a handler on, nested routers included. */
function mountedRoutes(app: Express): string[] {
  const found: string[] = [];
  const walk = (stack: Layer[]): void => {
    for (const layer of stack) {
      if (layer.route) {
        for (const path of [layer.route.path].flat()) for (const method of Object.keys(layer.route.methods)) {
          // `_all` is the 405 answer to the methods a path does not take, not a route of its own.
          if (method !== '_all') found.push(`${method} ${path}`);
        }
      } else if (layer.handle?.stack) walk(layer.handle.stack);
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack);
  return found;
}

describe('the OpenAPI description', () => {
  let server: TestServer;
  let document: { openapi: string; paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: object }> }> }>> };
  beforeAll(async () => {
    server = await startTestServer();
    document = (await request(server.app).get('/api/openapi.json')).body;
  });
  afterAll(() => server?.close());

  it('describes every route the server mounts, and nothing it does not', () => {
    const api = (route: string) => / \/(api\/|healthz|readyz)/.test(route);
    const mounted = new Set(mountedRoutes(server.app).filter(api));
    const described = new Set(OPERATIONS.map((operation) => `${operation.method} ${operation.path}`));
    expect([...mounted].filter((route) => !described.has(route))).toEqual([]);
    expect([...described].filter((route) => !mounted.has(route))).toEqual([]);
    expect(document.openapi).toBe('3.1.0');
    expect(Object.keys(document.paths)).toContain('/api/jobs/{id}/result');
  });

  it("describes what the server really answers: its styles, its limits and a job, checked against the description's schemas", async () => {
    const validator = new Validator();
    const schemaOf = (path: string, method: string, status: number) => document.paths[path][method].responses[status].content!['application/json'].schema;
    const check = (body: unknown, schema: object) => expect(validator.validate(body, schema).errors.map((e) => e.stack)).toEqual([]);

    check((await request(server.app).get('/api/styles')).body, schemaOf('/api/styles', 'get', 200));
    check((await request(server.app).get('/api/limits')).body, schemaOf('/api/limits', 'get', 200));
    const created = await request(server.app).post('/api/jobs').attach('audio', await makeClip({ seconds: 1, sampleRate: 22050, channels: 1, extension: 'wav' }));
    check(created.body, schemaOf('/api/jobs', 'post', 202));
    check((await request(server.app).get(`/api/jobs/${created.body.id as string}/nothing`)).body, document.paths['/api/jobs'].post.responses.default.content!['application/json'].schema);
    await server.jobs.settled(created.body.id as string);
    check((await request(server.app).get(`/api/jobs/${created.body.id as string}`)).body, schemaOf('/api/jobs/{id}', 'get', 200));
    const tiny = await makeClip({ seconds: 0.3, sampleRate: 8000, channels: 1, extension: 'wav' });
    const album = await request(server.app).post('/api/batches').attach('audio', tiny).attach('audio', tiny);
    check(album.body, schemaOf('/api/batches', 'post', 202));
    for (const job of album.body.jobs as Array<{ id: string }>) await server.jobs.settled(job.id);
    check((await request(server.app).get(`/api/batches/${album.body.id as string}`)).body, schemaOf('/api/batches/{id}', 'get', 200));
    // A body the description forbids is caught: the check can fail.
    expect(validator.validate({ maxUploadBytes: 'lots' }, schemaOf('/api/limits', 'get', 200)).valid).toBe(false);
  });
});
