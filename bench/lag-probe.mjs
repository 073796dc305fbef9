// Preloaded into the server by the bench (node --import): measures the main thread's event-loop delay and
// answers over the IPC channel the bench opens, so the server itself carries no benchmarking code.
import { monitorEventLoopDelay } from 'node:perf_hooks';

const histogram = monitorEventLoopDelay({ resolution: 10 });
histogram.enable();

if (process.send) {
  process.on('message', (message) => {
    if (message?.type === 'lag-reset') {
      histogram.reset();
      process.send({ type: 'lag-reset-done' });
    } else if (message?.type === 'lag-read') {
      const ms = (ns) => ns / 1e6;
      process.send({
        type: 'lag',
        p50: ms(histogram.percentile(50)),
        p99: ms(histogram.percentile(99)),
        max: ms(histogram.max),
        count: histogram.count,
      });
    }
  });
  // The IPC channel must not keep a server that was told to stop alive.
  process.channel?.unref();
}
