/**
 * An open-loop HTTP GET generator: one request every 1/rate s, whatever the answers do, latency
 * measured from each request's scheduled send time, so a slow answer or a late generator counts
 * against the service. autocannon's `overallRate` is not used: it sends each second's quota back
 * to back at the start of the second, a burst at full capacity.
 *
 * Run as its own process (`tsx bench/ingest/open-loop.ts '<json options>'`, prints the result as
 * JSON): a generator sharing a process with the load phase inherits that phase's heap and GC.
 */
import { Agent, request } from "node:http";
import { monitorEventLoopDelay, performance } from "node:perf_hooks";

export interface OpenLoopOptions {
  url: string;
  path: string;
  headers: Record<string, string>;
  rate: number;
  seconds: number;
}

export interface OpenLoopResult {
  requestsPerSecond: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  non2xx: number;
  errors: number;
  /** How late the generator itself sent requests (p99), and its longest event-loop stall. */
  generatorLagP99: number;
  generatorStallMax: number;
}

const round2 = (n: number) => Math.round(n * 100) / 100;

export const openLoop = async (opts: OpenLoopOptions): Promise<OpenLoopResult> => {
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const { hostname, port } = new URL(opts.url);
  const total = Math.round(opts.rate * opts.seconds);
  const latencies = new Float64Array(total);
  const lags = new Float64Array(total);
  let done = 0;
  let non2xx = 0;
  let errors = 0;
  const stalls = monitorEventLoopDelay({ resolution: 1 });
  stalls.enable();
  const started = performance.now();
  const inFlight: Array<Promise<void>> = [];
  const one = (k: number, scheduled: number) =>
    new Promise<void>((resolve) => {
      lags[k] = performance.now() - scheduled;
      const req = request(
        { agent, hostname, port, path: opts.path, headers: opts.headers },
        (res) => {
          res.resume();
          res.on("end", () => {
            if (res.statusCode !== 200) non2xx += 1;
            latencies[done++] = performance.now() - scheduled;
            resolve();
          });
        },
      );
      req.on("error", () => {
        errors += 1;
        resolve();
      });
      req.end();
    });
  for (let k = 0; k < total; ) {
    const now = performance.now();
    // Send every request whose time has come, then sleep until the next one is due.
    while (k < total && started + (k * 1000) / opts.rate <= now) {
      inFlight.push(one(k, started + (k * 1000) / opts.rate));
      k += 1;
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  await Promise.all(inFlight);
  const elapsed = (performance.now() - started) / 1000;
  stalls.disable();
  agent.destroy();
  const measured = latencies.subarray(0, done).sort();
  lags.sort();
  const quantile = (values: Float64Array, q: number) =>
    round2(values[Math.min(values.length - 1, Math.floor(q * values.length))] ?? 0);
  return {
    requestsPerSecond: done / elapsed,
    p50: quantile(measured, 0.5),
    p90: quantile(measured, 0.9),
    p99: quantile(measured, 0.99),
    max: round2(measured.at(-1) ?? 0),
    non2xx,
    errors,
    generatorLagP99: quantile(lags, 0.99),
    generatorStallMax: round2(stalls.max / 1e6),
  };
};

if (import.meta.url === `file://${process.argv[1]}`) {
  const result = await openLoop(JSON.parse(process.argv[2] ?? "{}") as OpenLoopOptions);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
