import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs, promisify } from 'node:util';
import { createAudioCodec } from '../node_app/server/adapters/media/audio-codec.js';
import { resolveFfmpeg } from '../node_app/server/adapters/media/ffmpeg/binary.js';
import { loadConfig } from '../node_app/server/config.js';
import { BankCache } from '../node_app/server/adapters/inference/bank-cache.js';
import { bankFileReader } from '../node_app/server/adapters/inference/bank-reader.js';
import { loadManifest } from '../node_app/server/adapters/inference/manifest.js';
import { createOnnxGenerator } from '../node_app/server/adapters/inference/onnx-generator.js';
import { createEngineBench, type StageTimes } from './engine-bench.js';
import { benchModel, type ModelRow } from './model-bench.js';
import { ffmpegFloor, makeInput, type BenchInput } from './inputs.js';
import { benchScale, type ScaleResults } from './scale-bench.js';
import { samplePeak } from '../test/helpers/memory.js';
import { BenchServer, pollHealth, type LagStats } from './server-bench.js';
import { formatSummary, markdownTable, summarize, type Summary } from './stats.js';

const SECTIONS = ['model', 'engine', 'startup', 'http', 'memory', 'throughput', 'scale'] as const;
const USAGE = `Usage: npm run bench [-- --quick] [--reps N] [--only SECTION,...] [--skip-build] [--baseline FILE]
  --quick          30 s and 3 min inputs only, fewer styles and repetitions (about 5 minutes)
  --reps N         repetitions of each figure (default 3, quick 2)
  --only LIST      run only these sections: ${SECTIONS.join(', ')}
  --skip-build     use dist/ as it is instead of compiling the server first
  --baseline FILE  a bench-*.json of earlier code (run just before, on the same machine): adds a before/after table`;

const run = promisify(execFile);

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    reps: { type: 'string' },
    'skip-build': { type: 'boolean', default: false },
    only: { type: 'string' },
    baseline: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const quick = values.quick;
const only = new Set(values.only ? values.only.split(',').map((x) => x.trim()) : SECTIONS);
const wants = (section: (typeof SECTIONS)[number]) => only.has(section);
const reps = Math.max(1, Number(values.reps ?? (quick ? 2 : 3)));
// The ffmpeg the app itself runs, chosen as the server chooses it (FFMPEG_PATH, else USE_SYSTEM_FFMPEG): every
// floor below is that binary with the app's own settings, so a ratio compares like with like.
const appConfig = loadConfig(process.env);
const ffmpegBinary = resolveFfmpeg(appConfig.ffmpegPath, { preferSystem: appConfig.useSystemFfmpeg });
const ffmpeg = ffmpegBinary.path;
const ffmpegFirstLine = (await promisify(execFile)(ffmpeg, ['-version'])).stdout.split('\n')[0].trim();
const modelsDir = path.resolve(process.env.MODELS_DIR ?? 'models');
const scratch = await mkdtemp(path.join(os.tmpdir(), 'enricher-bench-'));
const log = (line: string) => console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}`);

interface StageRow {
  input: string;
  style: string;
  seconds: number;
  stages: Record<keyof StageTimes, Summary>;
  floor: Summary;
}

/** Resident memory of the server process alone and summed over its process tree (launcher, ffmpeg), in MB. */
interface TreeMemory {
  nodeRssMb: number;
  treeRssMb: number;
  treePssMb: number;
}

interface MemoryRow {
  /** The server alone, ready and idle, before the upload. */
  idleMb: number;
  /** The server process's own peak (`VmHWM`, worker threads included). */
  peakProcessMb: number;
  /** The whole tree's peak, sampled every 100 ms: what a dyno's limit counts. */
  peakTree: TreeMemory;
  seconds: number;
}

interface ConcurrentRow {
  input: string;
  format: string;
  seconds: number;
  idleNodeRssMb: number;
  peakNodeRssMb: number;
  peakTreeRssMb: number;
  peakTreePssMb: number;
  /** Five seconds after the last answer: what the server keeps once the work is over. */
  afterNodeRssMb: number;
  /** The whole process tree then (the launcher stays; every ffmpeg should be gone). */
  afterTreeRssMb: number;
  healthzP50Ms: number;
  healthzP99Ms: number;
  healthzCount: number;
  /** Load averages (1, 5, 15 min) before and after: the machine may be shared. */
  load: number[][];
}

interface HttpRow {
  input: string;
  style: string;
  /** The output format asked for. */
  format: 'wav' | 'mp3';
  workers: number;
  seconds: number;
  wall: Summary;
  floor: Summary;
}

const results = {
  startedAt: new Date().toISOString(),
  mode: quick ? 'quick' : 'full',
  reps,
  machine: machine(),
  ffmpeg: { path: ffmpeg, source: ffmpegBinary.source, version: ffmpegFirstLine },
  loadBefore: os.loadavg(),
  loadAfter: [] as number[],
  model: {} as Record<string, unknown>,
  modelAlone: [] as ModelRow[],
  engine: [] as StageRow[],
  http: [] as HttpRow[],
  startup: {} as { healthz?: Summary; readyz?: Summary },
  memory: {} as Record<string, MemoryRow>,
  lag: {} as Record<string, unknown>,
  concurrent: [] as ConcurrentRow[],
  throughput: [] as Array<{ concurrency: number; workers: number; songs: number; seconds: number; songsPerSecond: number; songsPerSecondPerCore: number; input: string }>,
  scale: null as ScaleResults | null,
};

try {
  const manifest = await loadManifest(modelsDir);
  // The style made of a user's own recording needs one, which the bench does not send.
  const styleIds = manifest.styles.filter((s) => !s.needsTexture).map((s) => s.id);
  const mix = `${styleIds[0]}:0.5,${styleIds[1 % styleIds.length]}:0.3,${styleIds[2 % styleIds.length]}:0.2`;
  results.model = {
    version: manifest.version,
    file: manifest.model.file,
    bytes: (await stat(manifest.modelPath)).size,
    window: manifest.model.window,
    overlap: manifest.model.overlap,
    sampleRate: manifest.sampleRate,
    styles: styleIds.length,
  };
  log(`model ${manifest.version}: window ${manifest.model.window}, overlap ${manifest.model.overlap}, ${styleIds.length} styles; load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);

  if (!values['skip-build']) {
    log('compiling the server (npm run build:server)');
    await run('npx', ['tsc', '-p', 'tsconfig.build.json']);
  }

  log('generating inputs with ffmpeg');
  const inputs = new Map<string, BenchInput>();
  const want: Array<[number, 1 | 2, 'wav' | 'mp3']> = [
    [30, 2, 'wav'],
    [30, 1, 'mp3'],
    [180, 1, 'wav'],
    [180, 2, 'wav'],
    [180, 1, 'mp3'],
    [180, 2, 'mp3'],
    ...(quick ? [] : ([[600, 2, 'wav'], [600, 2, 'mp3'], [600, 1, 'mp3']] as Array<[number, 1 | 2, 'wav' | 'mp3']>)),
  ];
  const needsInputs = wants('engine') || wants('http') || wants('memory') || wants('throughput') || wants('scale');
  for (const [seconds, channels, format] of needsInputs ? want : []) {
    const input = await makeInput(ffmpeg, scratch, seconds, channels, format);
    inputs.set(input.name, input);
  }
  const get = (name: string): BenchInput => inputs.get(name)!;

  // ffmpeg alone on the same file, decoding it and encoding the output format, keyed by `input→format`.
  const floors = new Map<string, Summary>();
  const floorOf = (input: string, format: 'wav' | 'mp3') => floors.get(`${input}→${format}`)!;
  log('ffmpeg-only floor (decode + encode the output format)');
  for (const input of wants('engine') || wants('http') ? inputs.values() : []) {
    // A 3-min stereo WAV is also asked for as mp3 over HTTP (encoded while it is enriched): its floor is ffmpeg's own.
    const formats = input.format === 'mp3' || input.name === '3min-stereo-wav' ? (['mp3', 'wav'] as const) : (['wav'] as const);
    for (const format of formats) {
      const runs: number[] = [];
      for (let r = 0; r < reps; r++) runs.push(await ffmpegFloor(ffmpeg, input, format, path.join(scratch, `floor.${format}`)));
      floors.set(`${input.name}→${format}`, summarize(runs));
    }
  }

  if (wants('model')) {
    log('the model alone: batch size and intra-op threads');
    results.modelAlone = await benchModel(manifest, reps);
  }

  // ---- the engine, in process ----
  const codec = createAudioCodec({ ffmpegPath: ffmpeg, timeoutMs: 600_000, stallTimeoutMs: 600_000 });
  // Decoded into the cache first, as a server does at start: otherwise each style's first row would count decoding
  // its recordings (an ffmpeg per file, up to 3 s for thunderstorm's 21) as the engine's mixing time.
  const banks = new BankCache(manifest, bankFileReader(ffmpeg), () => path.join(scratch, 'banks'));
  if (wants('engine')) await banks.check();
  const engine = createEngineBench(manifest, await createOnnxGenerator(manifest), banks, codec);
  const engineCases: Array<{ input: string; style: string; reps: number }> = [];
  const perStyleIds = quick ? styleIds.slice(0, 3) : styleIds;
  for (const id of perStyleIds) engineCases.push({ input: '30s-stereo-wav', style: id, reps: 1 });
  engineCases.push({ input: '30s-stereo-wav', style: mix, reps });
  engineCases.push({ input: '30s-mono-mp3', style: styleIds[0], reps });
  for (const name of ['3min-mono-wav', '3min-stereo-wav', '3min-mono-mp3', '3min-stereo-mp3']) engineCases.push({ input: name, style: styleIds[0], reps });
  engineCases.push({ input: '3min-stereo-wav', style: mix, reps });
  if (!quick) {
    engineCases.push({ input: '10min-stereo-wav', style: styleIds[0], reps: Math.min(reps, 2) });
    engineCases.push({ input: '10min-stereo-mp3', style: mix, reps: 1 });
  }
  for (const c of wants('engine') ? engineCases : []) {
    const input = get(c.input);
    log(`engine: ${c.input} ${c.style} ×${c.reps}`);
    const runs: StageTimes[] = [];
    for (let r = 0; r < c.reps; r++) runs.push(await engine.run(input, c.style, scratch));
    const stages = Object.fromEntries(
      (Object.keys(runs[0]) as Array<keyof StageTimes>).map((key) => [key, summarize(runs.map((t) => t[key]))]),
    ) as Record<keyof StageTimes, Summary>;
    results.engine.push({ input: c.input, style: c.style, seconds: input.seconds, stages, floor: floorOf(c.input, input.format) });
  }

  // ---- start-up, over a fresh process each time ----
  log('start-up: time to /healthz and /readyz');
  const healthz: number[] = [];
  const readyz: number[] = [];
  for (let r = 0; r < (wants('startup') ? reps : 0); r++) {
    const server = await BenchServer.start({ WORKERS: '1', DATA_DIR: path.join(scratch, `data-start-${r}`) });
    try {
      healthz.push(await server.waitFor('/healthz'));
      readyz.push(await server.waitFor('/readyz'));
    } finally {
      await server.stop();
    }
  }
  if (healthz.length > 0) results.startup = { healthz: summarize(healthz), readyz: summarize(readyz) };

  // ---- the real server over HTTP: one worker (one core), then two (a song alone spreads over both) ----
  // The bench sends more songs a minute than one visitor may, and 10-minute WAVs are bigger than the upload limit.
  const bigUpload = { MAX_UPLOAD_MB: '200', MAX_DURATION_S: '900', RATE_LIMIT_PER_MIN: '100000' };
  type HttpCase = { input: string; style: string; format: 'wav' | 'mp3'; reps: number };
  const inItsFormat = (input: string, style = styleIds[0]): HttpCase => ({ input, style, format: get(input).format, reps });
  // Built only when wanted: the inputs they name are made only for the sections that use them.
  const httpCases: Array<[number, HttpCase[]]> = !wants('http') ? [] : [
    [
      1,
      [
        inItsFormat('30s-stereo-wav'),
        inItsFormat('30s-stereo-wav', mix),
        ...['3min-mono-wav', '3min-stereo-wav', '3min-mono-mp3', '3min-stereo-mp3'].map((input) => inItsFormat(input)),
        { input: '3min-stereo-mp3', style: styleIds[0], format: 'wav', reps },
        { input: '3min-stereo-wav', style: styleIds[0], format: 'mp3', reps },
        ...(quick ? [] : [{ ...inItsFormat('10min-mono-mp3'), reps: 1 }]),
      ],
    ],
    [2, [inItsFormat('3min-mono-wav'), inItsFormat('3min-stereo-wav'), { input: '3min-stereo-mp3', style: styleIds[0], format: 'wav', reps }, inItsFormat('3min-stereo-mp3')]],
  ];
  for (const [workers, cases] of httpCases) {
    const server = await BenchServer.start({ WORKERS: String(workers), DATA_DIR: path.join(scratch, `data-http-${workers}`), ...bigUpload });
    try {
      await server.waitFor('/readyz');
      // A server's first songs run ONNX Runtime and the engine's JIT cold in every worker thread and code path
      // they reach: a stereo song puts a channel on each worker, a mono one (on two workers) a spare beside
      // the first. Not counted: a dyno serves its first songs once per boot.
      for (const warmUp of ['30s-stereo-wav', '30s-mono-mp3']) await server.enrich(get(warmUp), { style: styleIds[0], seed: '7', format: 'wav' });
      for (const c of cases) {
        const input = get(c.input);
        log(`http, ${workers} worker(s): ${c.input} → ${c.format} ${c.style} ×${c.reps}`);
        const runs: number[] = [];
        for (let r = 0; r < c.reps; r++) runs.push((await server.enrich(input, { style: c.style, seed: '7', format: c.format })).seconds);
        results.http.push({ ...c, workers, seconds: input.seconds, wall: summarize(runs), floor: floorOf(c.input, c.format) });
      }
    } finally {
      await server.stop();
    }
  }

  // ---- memory and event-loop lag for the longest stereo upload, each on a fresh server ----
  // One worker is the dyno's default; with two a song alone runs on both, which is what memory has to allow.
  const [longWav, longMp3] = quick ? ['3min-stereo-wav', '3min-stereo-mp3'] : ['10min-stereo-wav', '10min-stereo-mp3'];
  const longRuns: Array<[string, number]> = [
    [longWav, 1],
    [longMp3, 1],
    [longMp3, 2],
  ];
  for (const [name, workers] of wants('memory') ? longRuns : []) {
    const input = get(name);
    const key = workers === 1 ? name : `${name}, ${workers} workers`;
    log(`memory and lag: ${name} on a fresh ${workers}-worker server`);
    const server = await BenchServer.start({ WORKERS: String(workers), DATA_DIR: path.join(scratch, `data-mem-${name}-${workers}`), ...bigUpload });
    try {
      await server.waitFor('/readyz');
      const idle = await server.treeMemoryKb();
      await server.resetLag();
      const tree = sampleTreePeak(server, 100);
      const health = pollHealth(server);
      const request = await server.enrich(input, { style: styleIds[0], seed: '7', format: input.format });
      const lag: LagStats = await server.readLag();
      const healthLatencies = await health.stop();
      results.memory[key] = { idleMb: idle.nodeRssKb / 1024, peakProcessMb: await server.peakRssMb(), peakTree: await tree.stop(), seconds: request.seconds };
      results.lag[key] = { ...lag, healthzP99Ms: percentile(healthLatencies, 99), healthzMaxMs: Math.max(...healthLatencies) };
    } finally {
      await server.stop();
    }
  }

  // ---- 4 simultaneous stereo MP3 uploads answered in MP3 (decoders, a live encoder, the launcher: issue 23's
  // case) on a server with the default WORKERS/MAX_QUEUE/ENCODE_WORKERS ----
  const concurrentInput = get('3min-stereo-mp3');
  for (let rep = 0; wants('memory') && rep < reps; rep++) {
    log(`memory and /healthz: 4 × ${concurrentInput.name} → mp3 at once, default workers (run ${rep + 1}/${reps})`);
    const server = await BenchServer.start({ DATA_DIR: path.join(scratch, `data-mem-4-${rep}`), ...bigUpload });
    try {
      await server.waitFor('/readyz');
      const idle = await server.treeMemoryKb();
      const loadBefore = os.loadavg();
      const tree = sampleTreePeak(server, 100);
      const health = pollHealth(server, 10);
      const started = performance.now();
      await Promise.all([0, 1, 2, 3].map((i) => server.enrich(concurrentInput, { seed: String(i), format: 'mp3' })));
      const seconds = (performance.now() - started) / 1000;
      const latencies = await health.stop();
      const peak = await tree.stop();
      await sleep(5000);
      const after = await server.treeMemoryKb();
      results.concurrent.push({
        input: concurrentInput.name,
        format: 'mp3',
        seconds,
        idleNodeRssMb: idle.nodeRssKb / 1024,
        peakNodeRssMb: peak.nodeRssMb,
        peakTreeRssMb: peak.treeRssMb,
        peakTreePssMb: peak.treePssMb,
        afterNodeRssMb: after.nodeRssKb / 1024,
        afterTreeRssMb: after.treeRssKb / 1024,
        healthzP50Ms: percentile(latencies, 50),
        healthzP99Ms: percentile(latencies, 99),
        healthzCount: latencies.length,
        load: [loadBefore, os.loadavg()],
      });
    } finally {
      await server.stop();
    }
  }

  // ---- throughput with 1 and 2 requests at a time on the default two-worker server ----
  const tpInput = get(quick ? '30s-stereo-wav' : '3min-stereo-wav');
  const serverTwo = !wants('throughput') ? null : await BenchServer.start({ WORKERS: '2', DATA_DIR: path.join(scratch, 'data-two'), ...bigUpload });
  try {
    await serverTwo?.waitFor('/readyz');
    for (const concurrency of serverTwo ? [1, 2] : []) {
      const songs = 2 * concurrency;
      log(`throughput: ${songs} × ${tpInput.name}, ${concurrency} at a time, 2 workers`);
      const started = performance.now();
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          for (let i = 0; i < songs / concurrency; i++) await serverTwo!.enrich(tpInput, { style: styleIds[0], seed: String(i), format: 'wav' });
        }),
      );
      const seconds = (performance.now() - started) / 1000;
      const cores = os.availableParallelism();
      results.throughput.push({ concurrency, workers: 2, songs, seconds, songsPerSecond: songs / seconds, songsPerSecondPerCore: songs / seconds / cores, input: tpInput.name });
    }
  } finally {
    await serverTwo?.stop();
  }

  // ---- the distributed mode: songs a minute with 1, 2 and 3 worker processes, one song's extra wait (issue 17) ----
  if (wants('scale')) {
    results.scale = await benchScale(get('30s-stereo-wav'), styleIds[0], { songs: 6, workerCounts: [1, 2, 3], reps, scratch, log });
  }

  await writeResults();
} catch (error) {
  // A section that dies (a server that never got ready on a loaded machine) must not take the figures
  // measured before it with it: they are written, marked incomplete, and the error still fails the run.
  log(`stopped: ${(error as Error).message}`);
  await writeResults(error as Error);
  throw error;
} finally {
  await rm(scratch, { recursive: true, force: true });
}

async function writeResults(failed?: Error): Promise<void> {
  results.loadAfter = os.loadavg();
  const dir = path.resolve('bench/results');
  await mkdir(dir, { recursive: true });
  const stamp = results.startedAt.replace(/[:.]/g, '-');
  // The figures first, so that a report that cannot be rendered from a half-run still leaves them behind.
  await writeFile(path.join(dir, `bench-${stamp}.json`), JSON.stringify({ ...results, ...(failed ? { incomplete: failed.message } : {}) }, null, 2));
  const baseline = values.baseline ? (JSON.parse(await readFile(values.baseline, 'utf8')) as typeof results) : null;
  const report = renderReport(results) + (baseline ? `\n\n${renderComparison(baseline, results)}` : '');
  console.log(report);
  // latest.* is what docs/performance.md is copied from, so only a whole run of every section replaces it.
  const complete = !failed && only.size === SECTIONS.length;
  if (complete) {
    await writeFile(path.join(dir, 'latest.json'), JSON.stringify(results, null, 2));
    await writeFile(path.join(dir, 'latest.md'), report);
  }
  log(`wrote bench/results/bench-${stamp}.json${complete ? ', latest.json and latest.md' : failed ? ' (incomplete)' : ''}`);
}

function renderReport(r: typeof results): string {
  const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(' ');
  const rtf = (s: Summary, seconds: number) => formatSummary(scale(s, 1 / seconds), 4);
  const out: string[] = [];
  out.push(`Machine: ${r.machine.cpu} × ${r.machine.cores}, ${r.machine.memoryGb} GB, ${r.machine.os}, Node ${r.machine.node}`);
  out.push(`Load average (1/5/15 min): before ${load(r.loadBefore)}, after ${load(r.loadAfter)}. Mode: ${r.mode}, ${r.reps} repetitions; median ±half the spread.`);
  out.push(`ffmpeg (the app's own, ${r.ffmpeg.source}; every floor is this binary): ${r.ffmpeg.path}, ${r.ffmpeg.version}`);
  out.push(`Model: ${String(r.model.file)} v${String(r.model.version)}, ${((r.model.bytes as number) / 1e6).toFixed(1)} MB, window ${String(r.model.window)}, overlap ${String(r.model.overlap)}.`);
  out.push('');
  const section = (title: string, rows: unknown[], table: () => string) => {
    if (rows.length === 0) return;
    out.push(title, table(), '');
  };
  section('The model alone (ORT session.run, random inputs), per window of new audio:', r.modelAlone, () =>
    markdownTable(
      ['batch', 'intra-op threads', 'ms per window', 'model RTF (mono)'],
      r.modelAlone.map((row) => [String(row.batch), String(row.threads), formatSummary(row.msPerWindow, 2), row.rtf.toFixed(4)]),
    ),
  );
  section('Engine in process (one thread), real-time factor = seconds of work per second of audio:', r.engine, () =>
    markdownTable(
      ['input', 'style', 'decode', 'inference', 'mix (noise)', 'encode', 'total RTF', '3-min time', 'ffmpeg floor RTF', 'total/floor'],
      r.engine.map((row) => [
        row.input,
        row.style,
        rtf(row.stages.decode, row.seconds),
        rtf(row.stages.inference, row.seconds),
        `${rtf(row.stages.mix, row.seconds)} (${(row.stages.noise.median / row.seconds).toFixed(4)})`,
        rtf(row.stages.encode, row.seconds),
        rtf(row.stages.total, row.seconds),
        `${((row.stages.total.median / row.seconds) * 180).toFixed(2)} s`,
        rtf(row.floor, row.seconds),
        (row.stages.total.median / row.floor.median).toFixed(1),
      ]),
    ),
  );
  section('Real server over HTTP (POST /api/enrich, one song at a time; floor: ffmpeg alone, same input and output format):', r.http, () =>
    markdownTable(
      ['input', 'output', 'workers', 'style', 'wall s', 'RTF', 'ffmpeg floor RTF', 'wall/floor'],
      r.http.map((row) => [
        row.input,
        row.format,
        String(row.workers),
        row.style,
        formatSummary(row.wall, 2),
        rtf(row.wall, row.seconds),
        rtf(row.floor, row.seconds),
        (row.wall.median / row.floor.median).toFixed(2),
      ]),
    ),
  );
  const targets: string[][] = [];
  if (r.startup.healthz && r.startup.readyz) {
    targets.push(['start → /healthz', formatSummary(scale(r.startup.healthz, 1000), 0) + ' ms', '≤ 1000 ms']);
    targets.push(['start → /readyz', formatSummary(scale(r.startup.readyz, 1000), 0) + ' ms', '≤ 3000 ms']);
  }
  for (const [name, m] of Object.entries(r.memory)) {
    targets.push([
      `peak RSS, ${name} upload: server alone; whole tree RSS / PSS`,
      `${m.peakProcessMb.toFixed(0)} MB; ${m.peakTree.treeRssMb.toFixed(0)} / ${m.peakTree.treePssMb.toFixed(0)} MB (idle ${m.idleMb.toFixed(0)} MB)`,
      '≤ 300 MB (tree)',
    ]);
  }
  for (const [name, l] of Object.entries(r.lag) as Array<[string, LagStats & { healthzP99Ms: number }]>) {
    targets.push([`event-loop lag p99 during ${name} (max; /healthz p99 from outside)`, `${l.p99.toFixed(1)} ms (max ${l.max.toFixed(1)}; ${l.healthzP99Ms.toFixed(1)} ms)`, '≤ 50 ms']);
  }
  for (const c of r.concurrent) {
    targets.push([
      `4 × ${c.input} → ${c.format} at once, default workers: peak RSS server alone; whole tree RSS / PSS (load ${load(c.load[0])} → ${load(c.load[1])})`,
      `${c.peakNodeRssMb.toFixed(0)} MB; ${c.peakTreeRssMb.toFixed(0)} / ${c.peakTreePssMb.toFixed(0)} MB (idle ${c.idleNodeRssMb.toFixed(0)} MB, ${c.seconds.toFixed(0)} s)`,
      '≤ 350 MB (tree)',
    ]);
    targets.push([`RSS 5 s after the 4 uploads: server alone; whole tree`, `${c.afterNodeRssMb.toFixed(0)} MB; ${c.afterTreeRssMb.toFixed(0)} MB`, '≤ 200 MB (server)']);
    targets.push([`/healthz p99 (p50) during the 4 uploads, ${c.healthzCount} probes`, `${c.healthzP99Ms.toFixed(1)} ms (${c.healthzP50Ms.toFixed(1)} ms)`, '≤ 100 ms']);
  }
  for (const t of r.throughput) {
    targets.push([`throughput, ${t.concurrency} at a time (${t.input}, ${t.workers} workers)`, `${t.songsPerSecond.toFixed(3)} songs/s = ${t.songsPerSecondPerCore.toFixed(3)} per core`, '–']);
  }
  if (r.scale) {
    const { latency } = r.scale;
    out.push(
      `Distributed mode (one web process, worker processes with WORKERS=1, redis-server and s3rver on 127.0.0.1): ${r.scale.throughput[0]?.songs} × ${r.scale.input} sent at once through POST /api/enrich:`,
      markdownTable(
        ['worker processes', 'wall s', 'songs/minute', 'load before → after'],
        r.scale.throughput.map((row) => [String(row.workers), row.seconds.toFixed(1), row.songsPerMinute.toFixed(1), `${load(row.load[0])} → ${load(row.load[1])}`]),
      ),
      '',
    );
    targets.push([
      `one ${r.scale.input} through POST /api/enrich: distributed (1 worker) vs embedded (WORKERS=1); load ${load(latency.load.distributed)} / ${load(latency.load.embedded)}`,
      `${formatSummary(latency.distributed, 2)} s vs ${formatSummary(latency.embedded, 2)} s: ${signed(latency.distributed.median - latency.embedded.median)} s`,
      '–',
    ]);
  }
  const threeMin = r.engine.find((row) => row.input === '3min-stereo-wav');
  if (threeMin) targets.push(['3-min stereo song, engine end to end', `${threeMin.stages.total.median.toFixed(2)} s (RTF ${(threeMin.stages.total.median / 180).toFixed(4)})`, '≤ 2 s (RTF 0.01)']);
  for (const row of r.http.filter((h) => h.input === '3min-stereo-wav' && h.format === 'wav')) {
    targets.push([`3-min stereo song over HTTP, ${row.workers} worker(s)`, `${row.wall.median.toFixed(2)} s (RTF ${(row.wall.median / 180).toFixed(4)})`, '≤ 2 s (RTF 0.01)']);
  }
  for (const row of r.http.filter((h) => h.input === '3min-stereo-wav' && h.format === 'mp3')) {
    targets.push([
      `3-min stereo WAV → MP3 over HTTP, ${row.workers} worker(s), against ffmpeg's own WAV → MP3`,
      `${(row.wall.median / row.floor.median).toFixed(2)}× (${row.wall.median.toFixed(2)} s / ${row.floor.median.toFixed(2)} s)`,
      '– (reported)',
    ]);
  }
  for (const row of r.http.filter((h) => h.input === '3min-stereo-mp3')) {
    const [floor, target] = row.format === 'wav' ? ['ffmpeg-only decode', '≤ 3×'] : ["ffmpeg's own MP3 → MP3", '≤ 1.3×'];
    targets.push([
      `3-min stereo MP3 → ${row.format.toUpperCase()} over HTTP, ${row.workers} worker(s), against ${floor}`,
      `${(row.wall.median / row.floor.median).toFixed(2)}× (${row.wall.median.toFixed(2)} s / ${row.floor.median.toFixed(2)} s)`,
      target,
    ]);
    if (row.format === 'wav') {
      targets.push([`3-min stereo MP3 → WAV over HTTP, ${row.workers} worker(s): RTF`, (row.wall.median / row.seconds).toFixed(4), '≤ 0.008 (quiet machine)']);
    }
  }
  out.push(markdownTable(['figure', 'measured', 'target'], targets));
  return out.join('\n');
}

function signed(value: number): string {
  return `${value < 0 ? '−' : '+'}${Math.abs(value).toFixed(2)}`;
}

/** The figures that both runs have, earlier code against this one (medians). */
function renderComparison(before: typeof results, after: typeof results): string {
  const rows: string[][] = [];
  const change = (was: number, now: number, digits: number, unit: string) =>
    [`${was.toFixed(digits)}${unit}`, `${now.toFixed(digits)}${unit}`, `×${(now / was).toFixed(2)}`];
  // issue 15's model target: at least 3× faster per window, i.e. after/before ≤ ×0.33
  for (const row of after.modelAlone) {
    const was = before.modelAlone.find((m) => m.batch === row.batch && m.threads === row.threads);
    if (was) rows.push([`model alone, batch ${row.batch}, ${row.threads} thread(s): ms per window`, ...change(was.msPerWindow.median, row.msPerWindow.median, 2, ' ms')]);
  }
  for (const row of after.engine) {
    const was = before.engine.find((e) => e.input === row.input && e.style === row.style);
    if (!was || !row.input.startsWith('3min-stereo')) continue;
    for (const stage of ['total', 'inference', 'mix', 'noise'] as const) {
      rows.push([`engine ${row.input}, ${row.style}: ${stage} RTF`, ...change(was.stages[stage].median / was.seconds, row.stages[stage].median / row.seconds, 4, '')]);
    }
  }
  for (const row of after.http) {
    const was = before.http.find((h) => h.input === row.input && h.format === row.format && h.workers === row.workers && h.style === row.style);
    if (was) rows.push([`HTTP ${row.input} → ${row.format}, ${row.workers} worker(s), ${row.style}: wall`, ...change(was.wall.median, row.wall.median, 2, ' s')]);
  }
  const memoryBefore = before.memory as Record<string, { peakProcessMb: number }>;
  for (const [name, m] of Object.entries(after.memory as Record<string, { peakProcessMb: number }>)) {
    if (memoryBefore[name]) rows.push([`peak RSS, ${name}`, ...change(memoryBefore[name].peakProcessMb, m.peakProcessMb, 0, ' MB')]);
  }
  const lagBefore = before.lag as Record<string, LagStats>;
  for (const [name, l] of Object.entries(after.lag as Record<string, LagStats>)) {
    if (lagBefore[name]) rows.push([`event-loop lag p99, ${name}`, ...change(lagBefore[name].p99, l.p99, 1, ' ms')]);
  }
  for (const t of after.throughput) {
    const was = before.throughput.find((b) => b.concurrency === t.concurrency && b.workers === t.workers && b.input === t.input);
    if (was) rows.push([`throughput, ${t.concurrency} at a time (${t.input}, ${t.workers} workers)`, ...change(was.songsPerSecond, t.songsPerSecond, 3, ' songs/s')]);
  }
  const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(' ');
  return [
    `Before → after (baseline run ${before.startedAt}, load ${load(before.loadBefore)} → ${load(before.loadAfter)}):`,
    markdownTable(['figure', 'before', 'after', 'after/before'], rows),
  ].join('\n');
}

function scale(s: Summary, factor: number): Summary {
  return summarize(s.runs.map((v) => v * factor));
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

function machine() {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown CPU',
    cores: os.availableParallelism(),
    memoryGb: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()}`,
    node: process.versions.node,
  };
}

/** The peak of the server's own RSS and of its whole tree's RSS and PSS, sampled until stopped. */
function sampleTreePeak(server: BenchServer, intervalMs: number): { stop(): Promise<TreeMemory> } {
  const peak = { nodeRssKb: 0, treeRssKb: 0, treePssKb: 0 };
  const sampler = samplePeak(async () => {
    const now = await server.treeMemoryKb();
    peak.nodeRssKb = Math.max(peak.nodeRssKb, now.nodeRssKb);
    peak.treeRssKb = Math.max(peak.treeRssKb, now.treeRssKb);
    peak.treePssKb = Math.max(peak.treePssKb, now.treePssKb);
    return now.treeRssKb;
  }, intervalMs);
  return {
    async stop() {
      await sampler.stop();
      return { nodeRssMb: peak.nodeRssKb / 1024, treeRssMb: peak.treeRssKb / 1024, treePssMb: peak.treePssKb / 1024 };
    },
  };
}
