import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError, fetchJob, fetchLimits } from './api';

function answer(status: number, body: unknown): void {
  vi.stubGlobal('fetch', async () => new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } }));
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('the API client reads every answer with the contract’s schemas', () => {
  it('passes on an answer that fits its schema', async () => {
    answer(200, { maxUploadBytes: 1000, maxDurationSeconds: 60, maxBatchBytes: 4000, maxBatchFiles: 20 });
    expect(await fetchLimits()).toEqual({ maxUploadBytes: 1000, maxDurationSeconds: 60, maxBatchBytes: 4000, maxBatchFiles: 20 });
  });

  it('refuses an answer that does not, instead of handing a half job to the pages', async () => {
    answer(200, { id: 'abc', status: 'running' });
    await expect(fetchJob('abc')).rejects.toMatchObject({ code: 'HTTP_200', status: 200 });
  });

  it('reports the API’s error by its code, and an error that is not the API’s by its status', async () => {
    answer(404, { error: { code: 'JOB_NOT_FOUND', message: 'No job with this id.' } });
    await expect(fetchJob('abc')).rejects.toEqual(new ApiError('JOB_NOT_FOUND', 'No job with this id.', 404));
    answer(502, '<html>Bad gateway</html>');
    await expect(fetchJob('abc')).rejects.toMatchObject({ code: 'HTTP_502', status: 502 });
  });
});
