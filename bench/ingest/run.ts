/**
 * `npm run bench:ingest [-- --seconds=30] [--load=10000000] [--load-seconds=300] [--db=both]`
 *
 * Usage ingestion and reads against the real server (`src/main.ts` in a child process, as
 * `npm start` runs it), over loopback, with autocannon generating the load in this process:
 *
 * 1. PostgreSQL (a fresh database created from DATABASE_URL or
 *    postgres://postgres@127.0.0.1:5432/test, dropped afterwards):
 *    - ingestion: sustained `POST /usage/events`, batches of 500 unique events (dedup on, every
 *      event new), by a usage:write service key, for a platform with a live subscription;
 *    - the raw ceiling, in the same run: the same rows straight into PostgreSQL with batched
 *      `INSERT ... SELECT FROM unnest(...)` (no HTTP, no dedup, no rollups), and the ratio;
 *    - a load up to `--load` events ingested in total (over HTTP, timestamps spread over the
 *      month so far) for another platform, capped at `--load-seconds`; meanwhile, event →
 *      visible latency: a batch is acknowledged, then `GET /usage/current` is polled until it
 *      shows it;
 *    - `GET /usage/current` at 1,000 requests/s for the loaded platform, right after the load and
 *      again once the database has settled (VACUUM (ANALYZE), CHECKPOINT, no autovacuum worker
 *      running): latency percentiles.
 * 2. PGlite (a fresh data dir): the same ingestion measurement.
 *
 * Prints the figures and the ratio to the targets (DESIGN §11); bench/README.md keeps results.
 */
import { type ChildProcess, execFileSync, execSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import autocannon from "autocannon";
import pg from "pg";
import { stopServer as stopProcessGroup } from "../../test/server-process.ts";
import { freePort } from "../free-port.ts";
import type { OpenLoopOptions, OpenLoopResult } from "./open-loop.ts";

const { values: args } = parseArgs({
  options: {
    seconds: { type: "string" },
    load: { type: "string" },
    "load-seconds": { type: "string" },
    "read-seconds": { type: "string" },
    connections: { type: "string" },
    db: { type: "string" },
    "cpu-prof": { type: "string" },
  },
});
const SECONDS = Number(args.seconds ?? 30);
const LOAD_EVENTS = Number(args.load ?? 10_000_000);
const LOAD_SECONDS = Number(args["load-seconds"] ?? 300);
const READ_SECONDS = Number(args["read-seconds"] ?? 20);
const CONNECTIONS = Number(args.connections ?? 8);
const which = args.db ?? "both";
/** A directory for the server's V8 CPU profiles (`node --cpu-prof`), written as it stops. */
const CPU_PROF_DIR = args["cpu-prof"];
const BATCH = 500;
const TENANTS = 100;
const USERS = 5_000;

const root = new URL("../..", import.meta.url).pathname;
const adminUrl = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const operatorKey = `nno_op_bench_${randomBytes(12).toString("hex")}`;
const runId = randomBytes(4).toString("hex");

const round = (n: number, digits = 0) => Math.round(n * 10 ** digits) / 10 ** digits;
const log = (...parts: unknown[]) => console.log(...parts);

// ---------------------------------------------------------------------------------------------
// Events

let sequence = 0;
/** Meter mix: 70 % api_requests, 10 % each of bandwidth_gb, storage_gb, active_users. */
const eventJson = (platformId: string, at: number) => {
  sequence += 1;
  const n = sequence;
  const slot = n % 10;
  const head = `{"id":"b${runId}_${n}","platformId":"${platformId}","tenantId":"tenant_${n % TENANTS}",`;
  const ts = `"timestamp":"${new Date(at).toISOString()}"`;
  if (slot < 7) return `${head}"meter":"api_requests","value":1,${ts}}`;
  if (slot === 7) return `${head}"meter":"bandwidth_gb","value":0.25,${ts}}`;
  if (slot === 8) return `${head}"meter":"storage_gb","value":${n % 500},${ts}}`;
  return `${head}"meter":"active_users",${ts},"properties":{"userId":"user_${(n * 7919) % USERS}"}}`;
};

/** A batch body; `spreadMs` spreads timestamps over the last `spreadMs` (0: now). */
const batchBody = (platformId: string, spreadMs = 0) => {
  const now = Date.now();
  const parts: string[] = [];
  for (let i = 0; i < BATCH; i++) {
    parts.push(eventJson(platformId, spreadMs > 0 ? now - ((sequence * 104_729) % spreadMs) : now));
  }
  return `{"events":[${parts.join(",")}]}`;
};

// ---------------------------------------------------------------------------------------------
// Server

/** `npm start`'s node command with `--cpu-prof` added (after `npm start`'s own build step). */
const profiledStartCommand = (dir: string) => {
  execFileSync(process.execPath, [join(root, "scripts/build.mjs")], { stdio: "inherit" });
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
  const [node = "node", ...rest] = String(pkg.scripts.start).split(/\s+/);
  return [node, "--cpu-prof", `--cpu-prof-dir=${dir}`, ...rest];
};

interface Server {
  child: ChildProcess;
  url: string;
}

/** Tenant limits no run of this benchmark reaches (see startServer). */
const benchLimits = {
  BILLING_RATE_LIMIT_REQUESTS_PER_SECOND: "1000000",
  BILLING_RATE_LIMIT_REQUEST_BURST: "2000000",
  BILLING_RATE_LIMIT_OPERATOR_REQUESTS_PER_SECOND: "1000000",
  BILLING_RATE_LIMIT_OPERATOR_REQUEST_BURST: "2000000",
  BILLING_RATE_LIMIT_EVENTS_PER_SECOND: "1000000000",
  BILLING_RATE_LIMIT_EVENT_BURST: "1000000000",
};

const startServer = async (env: Record<string, string>): Promise<Server> => {
  const port = await freePort();
  // Exactly what `npm start` runs (node flags included); with --cpu-prof, the same node command
  // with the profiler on.
  const [command = "npm", ...startArgs] = CPU_PROF_DIR
    ? profiledStartCommand(CPU_PROF_DIR)
    : ["npm", "start", "--silent"];
  const child = spawn(command, startArgs, {
    cwd: root,
    env: {
      ...process.env,
      NODE_ENV: "production",
      PORT: String(port),
      BILLING_OPERATOR_KEY: operatorKey,
      LOG_LEVEL: "warn",
      // This benchmark measures capacity with one platform and one key (~170 batches/s, ~86,000
      // events/s, then 1,000 reads/s), far over the default tenant limits (100 requests/s per
      // key, 20,000 events/s per platform). The limiter stays on, so every request pays its
      // check, with limits out of reach.
      ...benchLimits,
      ...env,
    },
    stdio: ["ignore", "inherit", "inherit"],
    // Its own process group, so that nothing it starts outlives the benchmark.
    detached: true,
  });
  children.add(child);
  child.once("exit", () => children.delete(child));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      if ((await fetch(`${url}/readyz`)).status === 200) return { child, url };
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline || child.exitCode !== null) throw new Error("server did not start");
    await new Promise((r) => setTimeout(r, 100));
  }
};

const stopServer = async (server: Server) => {
  // Let the last requests of a run finish before the server closes its pool.
  await new Promise((r) => setTimeout(r, 500));
  // The server drains before it exits (up to 10 s, and 30 s at worst): wait for it.
  await stopProcessGroup(server, "SIGTERM", 35_000);
};

const call = async (
  server: Server,
  method: string,
  path: string,
  body?: unknown,
  key = operatorKey,
) => {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return JSON.parse(text);
};

/** A platform with a platform key and a usage:write service key. */
const provision = async (server: Server, name: string) => {
  const platformId = `${name}_${runId}`;
  await call(server, "POST", "/operator/platforms", {
    platformId,
    name,
    email: `${name}@bench.example`,
  });
  const platformKey = (await call(server, "POST", `/operator/platforms/${platformId}/api-keys`, {}))
    .key as string;
  const serviceKey = (
    await call(server, "POST", `/operator/platforms/${platformId}/api-keys`, {
      scopes: ["usage:write"],
    })
  ).key as string;
  return { platformId, platformKey, serviceKey };
};

// ---------------------------------------------------------------------------------------------
// Measurements

interface IngestRun {
  eventsPerSecond: number;
  requests: number;
  non2xx: number;
  errors: number;
  latencyP50: number;
  latencyP99: number;
  seconds: number;
}

const ingestWithAutocannon = async (
  server: Server,
  opts: { platformId: string; key: string; seconds: number; spreadMs?: number; maxEvents?: number },
): Promise<IngestRun> => {
  const maxRequests = Math.floor((opts.maxEvents ?? Number.POSITIVE_INFINITY) / BATCH);
  const started = performance.now();
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    let responses = 0;
    const instance = autocannon(
      {
        url: server.url,
        connections: CONNECTIONS,
        duration: opts.seconds,
        headers: { authorization: `Bearer ${opts.key}`, "content-type": "application/json" },
        requests: [
          {
            method: "POST",
            path: "/usage/events",
            setupRequest: (req) => ({
              ...req,
              body: batchBody(opts.platformId, opts.spreadMs ?? 0),
            }),
          },
        ],
      },
      (error, done) => (error ? reject(error) : resolve(done)),
    );
    // A load with an event budget stops once it is reached (the duration is its cap).
    instance.on("response", () => {
      responses += 1;
      if (responses === maxRequests) instance.stop();
    });
  });
  const seconds = (performance.now() - started) / 1000;
  const ok = result["2xx"];
  return {
    eventsPerSecond: (ok * BATCH) / seconds,
    requests: ok,
    non2xx: result.non2xx,
    errors: result.errors,
    latencyP50: result.latency.p50,
    latencyP99: result.latency.p99,
    seconds,
  };
};

/** The same rows straight into PostgreSQL: batched INSERT ... SELECT FROM unnest(...). */
const rawCeiling = async (url: string, seconds: number, concurrency: number) => {
  const pool = new pg.Pool({ connectionString: url, max: concurrency });
  const platformId = `raw_${runId}`;
  const text = `insert into usage_events
    (platform_id, event_id, tenant_id, meter, value, occurred_at, properties, received_at)
    select * from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::numeric[],
      $6::timestamptz[], $7::jsonb[], $8::timestamptz[])`;
  let rows = 0;
  const deadline = performance.now() + seconds * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      const client = await pool.connect();
      try {
        while (performance.now() < deadline) {
          // The same generator as the HTTP run, parsed back into columns.
          const events = JSON.parse(batchBody(platformId)).events as Array<{
            id: string;
            tenantId: string;
            meter: string;
            value?: number;
            timestamp: string;
            properties?: unknown;
          }>;
          const received = new Date().toISOString();
          await client.query({
            name: "bench_raw_insert",
            text,
            values: [
              events.map(() => platformId),
              events.map((e) => e.id),
              events.map((e) => e.tenantId),
              events.map((e) => e.meter),
              events.map((e) => e.value ?? 1),
              events.map((e) => e.timestamp),
              events.map((e) => (e.properties ? JSON.stringify(e.properties) : null)),
              events.map(() => received),
            ],
          });
          rows += events.length;
        }
      } finally {
        client.release();
      }
    }),
  );
  await pool.end();
  return rows / ((performance.now() - started) / 1000);
};

/** Ack → visible: ingest one marked batch, then poll /usage/current until it shows. */
const visibility = async (server: Server, platformId: string, key: string, samples: number) => {
  const latencies: number[] = [];
  const readBandwidth = async () => {
    const body = await call(
      server,
      "GET",
      `/usage/current?platformId=${platformId}`,
      undefined,
      key,
    );
    return (body.meters as Array<{ meter: string; value: number }>).find(
      (m) => m.meter === "bandwidth_gb",
    )?.value as number;
  };
  for (let i = 0; i < samples; i++) {
    const before = await readBandwidth();
    const marker = 1000 + i;
    sequence += 1;
    await call(
      server,
      "POST",
      "/usage/events",
      {
        events: [
          { id: `vis_${runId}_${sequence}`, platformId, meter: "bandwidth_gb", value: marker },
        ],
      },
      key,
    );
    const acked = performance.now();
    for (;;) {
      const value = await readBandwidth();
      if (value >= before + marker - 1e-6) break;
      if (performance.now() - acked > 10_000) throw new Error("event never became visible");
    }
    latencies.push(performance.now() - acked);
    await new Promise((r) => setTimeout(r, 20));
  }
  latencies.sort((a, b) => a - b);
  const at = (q: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  return { p50: at(0.5), p99: at(0.99), max: latencies.at(-1) ?? 0, samples };
};

const logReads = (when: string, r: Awaited<ReturnType<typeof readLatency>>) =>
  log(
    `   GET /usage/current at 1,000 req/s, ${when}: ${round(r.requestsPerSecond)} req/s achieved, ` +
      `non-2xx ${r.non2xx}, errors ${r.errors}; p50 ${r.p50} ms, p90 ${r.p90} ms, p99 ${r.p99} ms, max ${r.max} ms (target p99 < 10 ms; ` +
      `the generator's own send lag p99 ${r.generatorLagP99} ms and longest stall ${r.generatorStallMax} ms, included)`,
  );

/**
 * `GET /usage/current` at 1,000 requests/s, open loop (see open-loop.ts), from a fresh process of
 * its own so that the generator carries none of the load phase's heap.
 */
const readLatency = async (
  server: Server,
  platformId: string,
  key: string,
  seconds: number,
): Promise<OpenLoopResult> => {
  const options: OpenLoopOptions = {
    url: server.url,
    path: `/usage/current?platformId=${platformId}`,
    headers: { authorization: `Bearer ${key}` },
    rate: 1000,
    seconds,
  };
  const child = spawn(
    process.execPath,
    ["--import", "tsx", "bench/ingest/open-loop.ts", JSON.stringify(options)],
    { cwd: root, stdio: ["ignore", "pipe", "inherit"] },
  );
  let output = "";
  child.stdout.on("data", (chunk) => {
    output += String(chunk);
  });
  const code = await new Promise((resolve) => child.once("exit", resolve));
  if (code !== 0) throw new Error(`open-loop generator exited with ${code}`);
  return JSON.parse(output) as OpenLoopResult;
};

// ---------------------------------------------------------------------------------------------
// Runs

/**
 * Lets the database digest the load before the steady-state read test: `VACUUM (ANALYZE)`, a
 * `CHECKPOINT` (the load leaves gigabytes of dirty pages, whose writing and fsync would otherwise
 * compete with the reads), then waits (up to 5 minutes) until no autovacuum worker runs.
 * Answers the seconds it took.
 */
const settle = async (pool: pg.Pool) => {
  const started = performance.now();
  await pool.query("vacuum (analyze)");
  await pool.query("checkpoint");
  const deadline = Date.now() + 300_000;
  while (Date.now() < deadline) {
    const { rows } = await pool.query(
      "select count(*)::int as n from pg_stat_activity where backend_type = 'autovacuum worker'",
    );
    if (rows[0].n === 0) break;
    await new Promise((r) => setTimeout(r, 1_000));
  }
  await pool.query("checkpoint");
  return round((performance.now() - started) / 1000);
};

const machine = () => {
  const sh = (cmd: string) => {
    try {
      return execSync(cmd, { encoding: "utf8" }).trim();
    } catch {
      return "?";
    }
  };
  return { nproc: sh("nproc"), memory: sh("free -g | sed -n 2p"), node: process.version };
};

const runPostgres = async () => {
  const name = `nno_bench_${runId}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  const version = (await admin.query("select version() as v")).rows[0].v as string;
  await admin.query(`create database "${name}"`);
  await admin.end();
  const dbUrl = new URL(adminUrl);
  dbUrl.pathname = `/${name}`;
  const url = dbUrl.toString();
  log(`\n== PostgreSQL: ${version}`);
  log(`   fresh database ${name}`);
  let server: Server | undefined;
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  try {
    server = await startServer({ DATABASE_URL: url });
    const ingest = await provision(server, "ingest");
    try {
      await call(
        server,
        "POST",
        "/subscriptions",
        {
          userId: ingest.platformId,
          priceId: "price_growth_monthly",
          paymentMethodId: "pm_card_visa",
        },
        ingest.platformKey,
      );
      log("   ingest platform has a live growth subscription (alerts are raised as it goes)");
    } catch (error) {
      log(
        `   (no subscription for the ingest platform: ${(error as Error).message.slice(0, 120)})`,
      );
    }

    // Warm-up: connections, prepared statements, JIT of the server's code paths.
    await ingestWithAutocannon(server, { ...withKey(ingest), seconds: 3 });
    const http = await ingestWithAutocannon(server, { ...withKey(ingest), seconds: SECONDS });
    const stored = (
      await pool.query("select count(*)::int as n from usage_events where platform_id = $1", [
        ingest.platformId,
      ])
    ).rows[0].n as number;
    log(
      `   HTTP ingestion: ${round(http.eventsPerSecond)} events/s over ${round(http.seconds, 1)} s ` +
        `(${http.requests} batches of ${BATCH}, ${CONNECTIONS} connections, non-2xx ${http.non2xx}, errors ${http.errors}; ` +
        `batch latency p50 ${http.latencyP50} ms, p99 ${http.latencyP99} ms; ${stored} events stored for the platform)`,
    );

    const ceiling = await rawCeiling(url, Math.min(SECONDS, 15), 4);
    log(`   raw ceiling (INSERT ... SELECT unnest, 4 connections): ${round(ceiling)} rows/s`);
    log(
      `   ratio HTTP / raw: ${round((100 * http.eventsPerSecond) / ceiling, 1)} % (target >= 30 %); ` +
        `target 50,000 events/s: ${http.eventsPerSecond >= 50_000 ? "met" : "missed"}`,
    );

    // Many events stored: load a second platform, timestamps over the month so far.
    const reads = await provision(server, "reads");
    const monthStart = new Date();
    monthStart.setUTCDate(1);
    monthStart.setUTCHours(0, 0, 0, 0);
    const spreadMs = Math.max(60_000, Date.now() - monthStart.getTime() - 60_000);
    // Events ingested through the API so far (the raw ceiling's rows are not among them).
    const ingested = async () =>
      (await pool.query("select count(*)::int as n from usage_event_keys")).rows[0].n as number;
    const existing = await ingested();
    const loadTarget = Math.max(0, LOAD_EVENTS - existing);
    log(
      `   loading up to ${loadTarget} more events (cap ${LOAD_SECONDS} s), measuring visibility meanwhile`,
    );
    const loading =
      loadTarget >= BATCH
        ? ingestWithAutocannon(server, {
            platformId: reads.platformId,
            key: reads.serviceKey,
            seconds: LOAD_SECONDS,
            spreadMs,
            maxEvents: loadTarget,
          })
        : Promise.resolve({ eventsPerSecond: 0, seconds: 0 });
    const visibleUnderLoad = await visibility(server, reads.platformId, reads.platformKey, 50);
    const load = await loading;
    const total = await ingested();
    const rawRows = (await pool.query("select count(*)::int as n from usage_events")).rows[0]
      .n as number;
    log(
      `   load: ${round(load.eventsPerSecond)} events/s for ${round(load.seconds, 1)} s (timestamps spread over ${round(spreadMs / 86_400_000, 1)} days); ` +
        `${total} events ingested through the API in total (${rawRows} rows in usage_events with the raw ceiling's)`,
    );
    log(
      `   event → visible in /usage/current (under that load): p50 ${round(visibleUnderLoad.p50, 2)} ms, ` +
        `p99 ${round(visibleUnderLoad.p99, 2)} ms, max ${round(visibleUnderLoad.max, 2)} ms (${visibleUnderLoad.samples} samples; target < 100 ms)`,
    );
    const visibleIdle = await visibility(server, reads.platformId, reads.platformKey, 50);
    log(
      `   event → visible (idle): p50 ${round(visibleIdle.p50, 2)} ms, p99 ${round(visibleIdle.p99, 2)} ms, max ${round(visibleIdle.max, 2)} ms`,
    );

    await readLatency(server, reads.platformId, reads.platformKey, 5); // warm-up, not reported
    const current = await readLatency(server, reads.platformId, reads.platformKey, READ_SECONDS);
    logReads("right after the load (autovacuum may be digesting it)", current);
    const settledIn = await settle(pool);
    await readLatency(server, reads.platformId, reads.platformKey, 5); // warm-up, not reported
    const settled = await readLatency(server, reads.platformId, reads.platformKey, READ_SECONDS);
    logReads(
      `settled (VACUUM (ANALYZE), CHECKPOINT, no autovacuum running; ${settledIn} s)`,
      settled,
    );
    return { http, ceiling, total, visibleUnderLoad, visibleIdle, current, settled, version };
  } finally {
    await pool.end();
    if (server) await stopServer(server);
    const cleanup = new pg.Client({ connectionString: adminUrl });
    await cleanup.connect();
    await cleanup.query(`drop database if exists "${name}" with (force)`);
    await cleanup.end();
  }
};

const withKey = (p: { platformId: string; serviceKey: string }) => ({
  platformId: p.platformId,
  key: p.serviceKey,
});

const runPglite = async () => {
  const dir = await mkdtemp(join(tmpdir(), "nno-bench-"));
  log(`\n== PGlite (embedded, data dir ${dir})`);
  let server: Server | undefined;
  try {
    server = await startServer({ DATABASE_URL: "", BILLING_DATA_DIR: dir });
    const ingest = await provision(server, "ingest");
    await ingestWithAutocannon(server, { ...withKey(ingest), seconds: 3 });
    const http = await ingestWithAutocannon(server, { ...withKey(ingest), seconds: SECONDS });
    log(
      `   HTTP ingestion: ${round(http.eventsPerSecond)} events/s over ${round(http.seconds, 1)} s ` +
        `(${http.requests} batches, non-2xx ${http.non2xx}, errors ${http.errors}; batch latency p50 ${http.latencyP50} ms, p99 ${http.latencyP99} ms); ` +
        `target 15,000: ${http.eventsPerSecond >= 15_000 ? "met" : "missed"}`,
    );
    const visible = await visibility(server, ingest.platformId, ingest.platformKey, 30);
    log(
      `   event → visible (idle): p50 ${round(visible.p50, 2)} ms, p99 ${round(visible.p99, 2)} ms`,
    );
    return { http };
  } finally {
    if (server) await stopServer(server);
    await rm(dir, { recursive: true, force: true });
  }
};

// The server is a child process: never leave it behind, whatever happens here.
const children = new Set<ChildProcess>();
process.on("exit", () => {
  for (const child of children) if (child.pid) process.kill(-child.pid, "SIGKILL");
});

const info = machine();
log(`machine: nproc ${info.nproc}; free -g: ${info.memory}; node ${info.node}`);
log(
  `batches of ${BATCH} unique events, ${TENANTS} tenants, ${USERS} distinct users; ${CONNECTIONS} connections; ${SECONDS} s per run`,
);
if (which === "postgres" || which === "both") await runPostgres();
if (which === "pglite" || which === "both") await runPglite();
