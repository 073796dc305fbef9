import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.js';

describe('which proxies are trusted with X-Forwarded-For', () => {
  it.each([
    ['none where nothing says a proxy is there', {}, false],
    ['one hop on Heroku (DYNO is set on every dyno)', { DYNO: 'web.1' }, 1],
    ['what TRUST_PROXY says, over DYNO', { DYNO: 'web.1', TRUST_PROXY: '2' }, 2],
    ['none when TRUST_PROXY is 0', { DYNO: 'web.1', TRUST_PROXY: '0' }, false],
    ['none when TRUST_PROXY is false', { TRUST_PROXY: 'false' }, false],
    ['the addresses TRUST_PROXY names', { TRUST_PROXY: 'loopback, 10.0.0.0/8' }, 'loopback, 10.0.0.0/8'],
  ])('%s', (_case, env, expected) => {
    expect(loadConfig(env).trustProxy).toEqual(expected);
  });

  it('refuses to trust every hop, which would let any client name its own address', () => {
    expect(() => loadConfig({ TRUST_PROXY: 'true' })).toThrow(/TRUST_PROXY: trusting every hop/);
  });
});
