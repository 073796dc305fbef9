/**
 * `npm run slug:check`: reproduces Heroku's nodejs buildpack on a clean clone of the committed tree and checks
 * the slug it would ship. There is no network to Heroku from here, so this is the proof a deploy works:
 * `.slugignore` applied, `npm ci` (install script skipped), `heroku-postbuild`, `npm prune --omit=dev`,
 * `heroku-cleanup`; then size, foreign binaries, boot times, one enrichment, and SIGTERM during a job.
 * Options: `--keep` leaves the clone in place; `--largest` also enriches the largest upload app.json allows
 * and reports peak memory.
 */
import { execFileSync, type ExecFileSyncOptions } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, readSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, startServer, waitForStatus, webCommand, type RunningServer } from '../node_app/server/deploy/boot-probe.js';
import { samplePeak, treeRssKb } from '../test/helpers/memory.js';

const TARGET_MB = 200;
const HARD_LIMIT_MB = 300;
const HEALTHZ_MS = 2_000;
// Models v3 also decode their banks of recordings (about 60 FLAC files) before the workers start: 20 s keeps a
// wide margin inside Heroku's own limit, which is only on binding the port (60 s; /healthz answers at once).
const READYZ_MS = 20_000;
const DYNO_MB = 512;

const repo = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const keep = process.argv.includes('--keep');
const largest = process.argv.includes('--largest');
const failures: string[] = [];
const report: Record<string, string | number> = {};

function step(name: string): number {
  console.log(`\n▸ ${name}`);
  return Date.now();
}

function check(ok: boolean, message: string): void {
  console.log(`  ${ok ? '✓' : '✗'} ${message}`);
  if (!ok) failures.push(message);
}

function sh(command: string, args: string[], options: ExecFileSyncOptions = {}): string {
  return String(execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], ...options }));
}

/** The buildpack's environment: production, but dev dependencies installed until the prune. */
const buildEnv: NodeJS.ProcessEnv = {
  ...process.env,
  NODE_ENV: 'production',
  ONNXRUNTIME_NODE_INSTALL: 'skip',
  npm_config_audit: 'false',
  npm_config_fund: 'false',
};

/** Heroku deletes `.slugignore`'s matches before the build; patterns follow .gitignore's basic rules. */
function applySlugignore(dir: string): string[] {
  const file = path.join(dir, '.slugignore');
  const patterns = readFileSync(file, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const toRegExp = (glob: string) =>
    new RegExp(`^${glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')}$`);
  const rules = patterns.map((p) => {
    const anchored = p.includes('/');
    return { anchored, re: toRegExp(p.replace(/^\//, '').replace(/\/$/, '')) };
  });
  const removed: string[] = [];
  const walk = (rel: string) => {
    for (const name of readdirSync(path.join(dir, rel))) {
      const child = rel ? `${rel}/${name}` : name;
      if (child === '.git') continue;
      if (rules.some((r) => (r.anchored ? r.re.test(child) : r.re.test(name)))) {
        rmSync(path.join(dir, child), { recursive: true, force: true });
        removed.push(child);
      } else if (statSync(path.join(dir, child)).isDirectory()) {
        walk(child);
      }
    }
  };
  walk('');
  return removed;
}

/** Native code for another platform: Mach-O, PE, or ELF for a machine other than x86-64. */
function foreignBinaries(dir: string): string[] {
  const found: string[] = [];
  const head = Buffer.alloc(20);
  const walk = (current: string) => {
    for (const entry of readdirSync(current, { withFileTypes: true })) {
      const full = path.join(current, entry.name);
      if (entry.isDirectory()) {
        walk(full);
        continue;
      }
      if (!entry.isFile()) continue;
      if (/cuda|tensorrt|\.dll$|\.dylib$|\.exe$/i.test(entry.name)) {
        found.push(path.relative(dir, full));
        continue;
      }
      const fd = openSync(full, 'r');
      const n = readSync(fd, head, 0, 20, 0);
      closeSync(fd);
      if (n < 20) continue;
      const magic = head.readUInt32BE(0);
      const macho = [0xfeedface, 0xfeedfacf, 0xcefaedfe, 0xcffaedfe, 0xcafebabe].includes(magic) && !full.endsWith('.class');
      const pe = head[0] === 0x4d && head[1] === 0x5a && /\.(node|dll|exe|sys)$/i.test(entry.name);
      const elfOther = magic === 0x7f454c46 && head.readUInt16LE(18) !== 0x3e;
      if (macho || pe || elfOther) found.push(path.relative(dir, full));
    }
  };
  walk(dir);
  return found;
}

function sizeMb(dir: string): number {
  return Number(sh('du', ['-sm', dir]).split('\t')[0]);
}

function appJsonEnv(dir: string): Record<string, string> {
  const app = JSON.parse(readFileSync(path.join(dir, 'app.json'), 'utf8')) as { env: Record<string, { value?: string }> };
  return Object.fromEntries(Object.entries(app.env).flatMap(([k, v]) => (v.value === undefined ? [] : [[k, v.value]])));
}

/** A test tune from the slug's own ffmpeg: a sweep with a beat, as loud as music. */
function makeClip(ffmpeg: string, file: string, seconds: number, rate: number, codec: string[]): void {
  const expr = `0.4*sin(2*PI*(220+200*mod(t\\,5))*t)*(0.6+0.4*sin(2*PI*2*t))|0.3*sin(2*PI*330*t)*(0.5+0.5*sin(2*PI*3*t))`;
  sh(ffmpeg, ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', `aevalsrc=${expr}:s=${rate}:d=${seconds}`, ...codec, file]);
}

async function postAudio(base: string, route: string, file: string, fields: Record<string, string>): Promise<Response> {
  const form = new FormData();
  form.set('audio', new Blob([readFileSync(file)]), path.basename(file));
  for (const [k, v] of Object.entries(fields)) form.set(k, v);
  return fetch(`${base}${route}`, { method: 'POST', body: form });
}

async function jobStatus(base: string, id: string): Promise<{ status: string; progress: number; error?: { code: string } }> {
  return (await (await fetch(`${base}/api/jobs/${id}`)).json()) as { status: string; progress: number; error?: { code: string } };
}

async function boot(app: string, env: NodeJS.ProcessEnv): Promise<{ server: RunningServer; base: string; healthMs: number; readyMs: number }> {
  const port = await freePort();
  const server = startServer(webCommand(path.join(app, 'Procfile')), app, { ...env, PORT: String(port) });
  const base = `http://127.0.0.1:${port}`;
  const healthMs = await waitForStatus(server, `${base}/healthz`, 200, 60_000);
  const readyMs = await waitForStatus(server, `${base}/readyz`, 200, 60_000);
  return { server, base, healthMs, readyMs };
}

async function main(): Promise<void> {
  const started = Date.now();
  const work = mkdtempSync(path.join(os.tmpdir(), 'slug-check-'));
  const app = path.join(work, 'app');
  let server: RunningServer | null = null;
  try {
    let t = step('clone the committed tree (what `git push heroku` sends)');
    sh('git', ['clone', '--quiet', '--no-hardlinks', repo, app]);
    rmSync(path.join(app, '.git'), { recursive: true, force: true });
    const removed = applySlugignore(app);
    console.log(`  .slugignore removed: ${removed.join(', ') || 'nothing'} (${Date.now() - t} ms)`);
    const lostSource = removed.filter((r) => (r.startsWith('node_app') || r.startsWith('models/')) && !/\.test\.tsx?$/.test(r) && r !== 'models/training');
    check(lostSource.length === 0, `.slugignore keeps the app's source and models${lostSource.length ? ` (removed: ${lostSource.join(', ')})` : ''}`);

    t = step('npm ci (dev dependencies included, onnxruntime-node install script skipped)');
    sh('npm', ['ci', '--include=dev', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: app, env: buildEnv, stdio: ['ignore', 'inherit', 'inherit'] });
    console.log(`  ${Date.now() - t} ms`);

    t = step('npm run heroku-postbuild');
    sh('npm', ['run', 'heroku-postbuild', '--silent'], { cwd: app, env: buildEnv, stdio: ['ignore', 'ignore', 'inherit'] });
    console.log(`  ${Date.now() - t} ms`);

    t = step('npm prune --omit=dev, then npm run heroku-cleanup');
    sh('npm', ['prune', '--omit=dev', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: app, env: buildEnv, stdio: ['ignore', 'inherit', 'inherit'] });
    sh('npm', ['run', 'heroku-cleanup', '--silent'], { cwd: app, env: buildEnv, stdio: ['ignore', 'inherit', 'inherit'] });
    console.log(`  ${Date.now() - t} ms`);

    step('slug contents');
    const slugMb = sizeMb(app);
    const tarball = path.join(work, 'slug.tgz');
    sh('tar', ['-czf', tarball, '-C', app, '.']);
    const compressedMb = Math.round(statSync(tarball).size / 1e5) / 10;
    rmSync(tarball);
    report.slugMb = slugMb;
    report.slugCompressedMb = compressedMb;
    for (const [name, dir] of [['node_modules', 'node_modules'], ['onnxruntime-node', 'node_modules/onnxruntime-node'], ['@ffmpeg-installer', 'node_modules/@ffmpeg-installer'], ['models', 'models'], ['dist', 'dist']]) {
      console.log(`  ${name}: ${sizeMb(path.join(app, dir))} MB`);
    }
    check(slugMb <= HARD_LIMIT_MB, `slug is ${slugMb} MB on disk (${compressedMb} MB compressed), hard limit ${HARD_LIMIT_MB} MB`);
    if (slugMb > TARGET_MB) console.log(`  ! above the ${TARGET_MB} MB target`);
    const foreign = foreignBinaries(app);
    check(foreign.length === 0, `no CUDA, darwin, win32 or non-x64 binaries${foreign.length ? `: ${foreign.slice(0, 5).join(', ')}` : ''}`);
    const devOnly = ['typescript', 'vite', 'vitest', 'tsx'].filter((name) => {
      try {
        return statSync(path.join(app, 'node_modules', name)).isDirectory();
      } catch {
        return false;
      }
    });
    check(devOnly.length === 0, `dev dependencies pruned${devOnly.length ? ` (still there: ${devOnly.join(', ')})` : ''}`);
    check(!removed.includes('models/enricher.onnx') && statSync(path.join(app, 'models', 'enricher.onnx')).size > 0, 'the model is in the slug');

    step('boot with the Procfile command, a random PORT and app.json\'s config vars');
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, ...appJsonEnv(app), NODE_ENV: 'production' };
    const booted = await boot(app, env);
    server = booted.server;
    report.healthzMs = booted.healthMs;
    report.readyzMs = booted.readyMs;
    check(booted.healthMs <= HEALTHZ_MS, `/healthz answered after ${booted.healthMs} ms (limit ${HEALTHZ_MS})`);
    check(booted.readyMs <= READYZ_MS, `/readyz answered after ${booted.readyMs} ms (limit ${READYZ_MS})`);
    const ffmpegLine = server.output.find((l) => l.includes('using ffmpeg'));
    console.log(`  ${ffmpegLine ?? 'no "using ffmpeg" log line'}`);
    check(Boolean(ffmpegLine), 'the log says which ffmpeg decodes uploads');

    step('enrich a short file');
    const ffmpeg = path.join(app, 'node_modules/@ffmpeg-installer/linux-x64/ffmpeg');
    const short = path.join(work, 'short.mp3');
    makeClip(ffmpeg, short, 5, 44100, ['-c:a', 'libmp3lame', '-b:a', '128k']);
    const enriched = await postAudio(booted.base, '/api/enrich', short, { style: 'rain', seed: '7' });
    const body = Buffer.from(await enriched.arrayBuffer());
    // The data chunk's bytes over the byte rate, walking the chunks: a result carries its credits in a LIST chunk.
    let dataBytes = 0;
    for (let at = 12; enriched.ok && at + 8 <= body.length; at += 8 + body.readUInt32LE(at + 4) + (body.readUInt32LE(at + 4) % 2)) {
      if (body.toString('latin1', at, at + 4) === 'data') {
        dataBytes = body.readUInt32LE(at + 4);
        break;
      }
    }
    const seconds = dataBytes / (body.readUInt32LE(28) || 1);
    check(enriched.status === 200 && enriched.headers.get('content-type') === 'audio/wav', `POST /api/enrich answered ${enriched.status} ${enriched.headers.get('content-type')}`);
    check(Math.abs(seconds - 5) < 0.06, `the enriched file lasts ${seconds.toFixed(3)} s (input 5 s, mp3 padding allowed)`);

    step('SIGTERM while a job runs');
    const longer = path.join(work, 'longer.flac');
    makeClip(ffmpeg, longer, 120, 44100, ['-c:a', 'flac']);
    const created = await postAudio(booted.base, '/api/jobs', longer, { style: 'thunderstorm', seed: '3' });
    const { id } = (await created.json()) as { id: string };
    check(created.status === 202, `POST /api/jobs answered ${created.status}`);
    for (let i = 0; i < 200 && (await jobStatus(booted.base, id)).status === 'queued'; i++) await new Promise((r) => setTimeout(r, 50));
    const before = await jobStatus(booted.base, id);
    check(before.status === 'running', `the job is ${before.status} when SIGTERM is sent`);
    const sentAt = Date.now();
    server.child.kill('SIGTERM');
    const refused = await postAudio(booted.base, '/api/jobs', short, {}).then((r) => String(r.status), (e: unknown) => (e instanceof Error ? (e.cause as { code?: string })?.code ?? e.message : 'error'));
    // Either a 503 on a connection still open, or the connection itself refused or cut: never a 202.
    check(refused === '503' || !/^\d+$/.test(refused), `a new upload after SIGTERM is turned away (${refused})`);
    const exit = await server.exited;
    const exitMs = exit.at - sentAt;
    report.sigtermExitMs = exitMs;
    const log = server.output.join('\n');
    check(exit.code === 0, `exit code ${exit.code} after SIGTERM, ${exitMs} ms later (Heroku kills at 30 000)`);
    check(server.output.some((l) => l.includes(id) && l.includes('"msg":"job done"')), 'the running job finished before the exit');
    check(log.includes('"msg":"bye"'), 'the last log line ("bye") was flushed');
    server = null;

    step("app.json's postdeploy health check, run in the slug as a one-off dyno would");
    const postdeploy = (JSON.parse(readFileSync(path.join(app, 'app.json'), 'utf8')) as { scripts: { postdeploy: string } }).scripts.postdeploy;
    const port = await freePort();
    let healthOutput = '';
    try {
      healthOutput = sh('bash', ['-c', postdeploy], { cwd: app, env: { ...env, PORT: String(port) }, timeout: 120_000 });
    } catch (error) {
      healthOutput = String((error as { stdout?: string }).stdout ?? error);
    }
    check(healthOutput.includes('health check passed'), `postdeploy: ${healthOutput.trim().split('\n').at(-1)}`);

    if (largest) {
      step('peak memory while enriching the largest upload app.json allows');
      const limits = appJsonEnv(app);
      const maxSeconds = Number(limits.MAX_DURATION_S);
      const big = path.join(work, 'largest.mp3');
      // 48 kHz stereo is the most samples per second the server keeps; mp3 fits the whole duration under the upload limit.
      makeClip(ffmpeg, big, maxSeconds, 48000, ['-c:a', 'libmp3lame', '-b:a', '320k']);
      const bigMb = statSync(big).size / 2 ** 20;
      const wav = path.join(work, 'largest.wav');
      // The largest WAV the upload limit lets through: WAV is decoded in process, which costs the most memory per byte.
      makeClip(ffmpeg, wav, Math.floor((Number(limits.MAX_UPLOAD_MB) * 2 ** 20 - 1024) / (48000 * 4)), 48000, ['-c:a', 'pcm_s16le']);
      for (const file of [big, wav]) {
        const run = await boot(app, env);
        server = run.server;
        const pid = server.child.pid!;
        const memory = samplePeak(() => treeRssKb(pid), 100);
        const t0 = Date.now();
        const res = await postAudio(run.base, '/api/jobs', file, { style: 'rain' });
        const job = (await res.json()) as { id: string };
        let state = await jobStatus(run.base, job.id);
        while (state.status === 'queued' || state.status === 'running') {
          await new Promise((r) => setTimeout(r, 200));
          state = await jobStatus(run.base, job.id);
        }
        const peakMb = Math.round((await memory.stop()) / 1024);
        const label = `${path.basename(file)} (${(statSync(file).size / 2 ** 20).toFixed(1)} MB${file === big ? `, ${maxSeconds} s` : ''})`;
        report[`peakRssMb ${label}`] = peakMb;
        check(state.status === 'done', `${label}: ${state.status} in ${Date.now() - t0} ms`);
        check(peakMb < 0.8 * DYNO_MB, `${label}: peak RSS of the dyno's processes ${peakMb} MB (under 80% of ${DYNO_MB} MB)`);
        server.child.kill('SIGTERM');
        await server.exited;
        server = null;
      }
      console.log(`  (mp3 upload was ${bigMb.toFixed(1)} MB)`);
    }
  } finally {
    if (server) server.child.kill('SIGKILL');
    if (keep) console.log(`\nkept ${app}`);
    else rmSync(work, { recursive: true, force: true });
  }
  report.seconds = Math.round((Date.now() - started) / 1000);
  // The report is the last JSON line of the output; nothing is left behind in /tmp.
  console.log(`\n${JSON.stringify(report)}`);
  if (failures.length > 0) {
    console.log(`\nslug check FAILED (${failures.length}):\n- ${failures.join('\n- ')}`);
    process.exitCode = 1;
  } else {
    console.log('\nslug check passed');
  }
}

await main();
