/**
 * `npm run bench:noisy [-- --rate=500 --seconds=20 --warmup=5 --connections=8]`
 *
 * The noisy neighbour (issue 11, "no tenant limits"): how much platform B's reads suffer while
 * platform A floods ingestion, with and without the tenant limits. The real server (`npm start`
 * in a child process, NODE_ENV=production, LOG_LEVEL=warn) on PostgreSQL, a fresh database
 * created from DATABASE_URL or postgres://postgres@127.0.0.1:5432/test and dropped afterwards.
 *
 * - B reads `GET /usage/current` with its platform key at a steady `--rate` (open loop, from a
 *   process of its own: bench/ingest/open-loop.ts), for `--seconds` after `--warmup`.
 * - A floods `POST /usage/events` with its usage:write key: autocannon, `--connections`
 *   connections, batches of 500 new events, as fast as the answers come (a client that ignores
 *   Retry-After: the worst case).
 *
 * Phases, each with B's latency percentiles and A's accepted events/s and refusals:
 * 1. server with BILLING_RATE_LIMITS=off: B alone; B while A floods (the issue's situation);
 * 2. server with the default limits (B's per-key request limit raised by the operator, since
 *    its reads exceed the default 100/s): B alone; B while A floods with its limits raised far
 *    out of reach (`PUT .../limits`, limits effectively off, but every request still pays the
 *    check); B while A floods under the default limits; B while A floods held by the operator
 *    to 5,000 events/s (the defaults bind only when A can send more than 20,000 events/s).
 * Prints each phase's p99 and its ratio to the baseline; bench/README.md keeps results.
 */
import { type ChildProcess, execSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { loadavg } from "node:os";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import autocannon from "autocannon";
import pg from "pg";
import { stopServer as stopProcessGroup } from "../../test/server-process.ts";
import { freePort } from "../free-port.ts";
import type { OpenLoopOptions, OpenLoopResult } from "../ingest/open-loop.ts";

const { values: args } = parseArgs({
  options: {
    rate: { type: "string" },
    seconds: { type: "string" },
    warmup: { type: "string" },
    connections: { type: "string" },
  },
});
const READ_RATE = Number(args.rate ?? 500);
const SECONDS = Number(args.seconds ?? 20);
const WARMUP = Number(args.warmup ?? 5);
const CONNECTIONS = Number(args.connections ?? 8);
const BATCH = 500;
/** The events/s of the last phase's operator override for A: well under what A can send. */
const TIGHT_EVENTS = 5_000;

const root = new URL("../..", import.meta.url).pathname;
const adminUrl = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const operatorKey = `nno_op_bench_${randomBytes(12).toString("hex")}`;
const runId = randomBytes(4).toString("hex");
const round = (n: number, digits = 0) => Math.round(n * 10 ** digits) / 10 ** digits;
const log = (...parts: unknown[]) => console.log(...parts);

// ---------------------------------------------------------------------------------------------
// Server (as bench/ingest/run.ts starts it)

interface Server {
  child: ChildProcess;
  url: string;
}

const children = new Set<ChildProcess>();
process.on("exit", () => {
  for (const child of children) if (child.pid) process.kill(-child.pid, "SIGKILL");
});

const startServer = async (env: Record<string, string>): Promise<Server> => {
  const port = await freePort();
  const child = spawn("npm", ["start", "--silent"], {
    cwd: root,
    env: {
      ...process.env,
      NODE_ENV: "production",
      PORT: String(port),
      BILLING_OPERATOR_KEY: operatorKey,
      LOG_LEVEL: "warn",
      ...env,
    },
    stdio: ["ignore", "inherit", "inherit"],
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
  await new Promise((r) => setTimeout(r, 500));
  await stopProcessGroup(server, "SIGTERM", 35_000);
};

const call = async (server: Server, method: string, path: string, body?: unknown) => {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${operatorKey}`, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return JSON.parse(text);
};

// ---------------------------------------------------------------------------------------------
// Platforms and load

interface Platform {
  platformId: string;
  platformKey: string;
  serviceKey: string;
}

/** A platform with a live Growth subscription, a platform key and a usage:write key. */
const provision = async (server: Server, name: string): Promise<Platform> => {
  const platformId = `${name}_${runId}`;
  await call(server, "POST", "/operator/platforms", {
    platformId,
    name,
    email: `${name}@bench.example`,
  });
  const keyOf = async (scopes?: string[]) =>
    (
      await call(
        server,
        "POST",
        `/operator/platforms/${platformId}/api-keys`,
        scopes ? { scopes } : {},
      )
    ).key as string;
  const platform = {
    platformId,
    platformKey: await keyOf(),
    serviceKey: await keyOf(["usage:write"]),
  };
  await call(server, "POST", "/subscriptions", {
    userId: platformId,
    priceId: "price_growth_monthly",
    paymentMethodId: "pm_card_visa",
  });
  return platform;
};

let sequence = 0;
/** A batch of 500 new events: 70 % api_requests, 10 % each of the other meters, 100 tenants. */
const batchBody = (platformId: string) => {
  const at = new Date().toISOString();
  const parts: string[] = [];
  for (let i = 0; i < BATCH; i++) {
    sequence += 1;
    const n = sequence;
    const head = `{"id":"n${runId}_${n}","platformId":"${platformId}","tenantId":"tenant_${n % 100}",`;
    const slot = n % 10;
    if (slot < 7) parts.push(`${head}"meter":"api_requests","timestamp":"${at}"}`);
    else if (slot === 7)
      parts.push(`${head}"meter":"bandwidth_gb","value":0.25,"timestamp":"${at}"}`);
    else if (slot === 8)
      parts.push(`${head}"meter":"storage_gb","value":${n % 500},"timestamp":"${at}"}`);
    else {
      parts.push(
        `${head}"meter":"active_users","timestamp":"${at}","properties":{"userId":"user_${(n * 7919) % 5000}"}}`,
      );
    }
  }
  return `{"events":[${parts.join(",")}]}`;
};

interface Flood {
  accepted: number;
  refused: number;
  other: number;
  seconds: number;
}

/** A floods ingestion with autocannon until `stop` is called; answers what it achieved. */
const flood = (server: Server, a: Platform) => {
  const started = performance.now();
  let instance: autocannon.Instance | undefined;
  const done = new Promise<Flood>((resolve, reject) => {
    let accepted = 0;
    let refused = 0;
    let other = 0;
    instance = autocannon(
      {
        url: server.url,
        connections: CONNECTIONS,
        duration: 3_600,
        headers: { authorization: `Bearer ${a.serviceKey}`, "content-type": "application/json" },
        requests: [
          {
            method: "POST",
            path: "/usage/events",
            setupRequest: (req) => ({ ...req, body: batchBody(a.platformId) }),
          },
        ],
      },
      (error) => {
        if (error) reject(error);
        else resolve({ accepted, refused, other, seconds: (performance.now() - started) / 1000 });
      },
    );
    instance.on("response", (_client, status) => {
      if (status === 200) accepted += 1;
      else if (status === 429) refused += 1;
      else other += 1;
    });
  });
  return { stop: () => instance?.stop(), done };
};

/** B's reads at READ_RATE for `seconds`, open loop, from a process of its own. */
const readLatency = async (server: Server, b: Platform, seconds: number) => {
  const options: OpenLoopOptions = {
    url: server.url,
    path: `/usage/current?platformId=${b.platformId}`,
    headers: { authorization: `Bearer ${b.platformKey}` },
    rate: READ_RATE,
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

interface PhaseResult {
  name: string;
  reads: OpenLoopResult;
  flood?: Flood;
}

/** One phase: B's reads (warm-up, then measured), with A flooding meanwhile when asked. */
const phase = async (
  server: Server,
  name: string,
  a: Platform,
  b: Platform,
  withFlood: boolean,
): Promise<PhaseResult> => {
  const load = withFlood ? flood(server, a) : undefined;
  await readLatency(server, b, WARMUP);
  const reads = await readLatency(server, b, SECONDS);
  load?.stop();
  const result: PhaseResult = { name, reads, ...(load ? { flood: await load.done } : {}) };
  report(result);
  return result;
};

const report = ({ name, reads, flood: f }: PhaseResult) => {
  const a = f
    ? `; A: ${round((f.accepted * BATCH) / f.seconds)} events/s accepted, ${round(f.accepted / f.seconds)} batches/s 200, ` +
      `${round(f.refused / f.seconds)}/s 429${f.other ? `, ${f.other} other` : ""}`
    : "";
  log(
    `   ${name}: B ${round(reads.requestsPerSecond)} req/s, p50 ${reads.p50} ms, p90 ${reads.p90} ms, ` +
      `p99 ${reads.p99} ms, max ${reads.max} ms, non-2xx ${reads.non2xx}, errors ${reads.errors} ` +
      `(generator lag p99 ${reads.generatorLagP99} ms, stall ${reads.generatorStallMax} ms)${a}; ` +
      `load average ${loadavg()[0]?.toFixed(2)}`,
  );
};

// ---------------------------------------------------------------------------------------------
// Run

const machine = () => {
  const sh = (cmd: string) => {
    try {
      return execSync(cmd, { encoding: "utf8" }).trim();
    } catch {
      return "?";
    }
  };
  return { nproc: sh("nproc"), node: process.version };
};

/** A's limits raised beyond reach: the limiter still checks every request, refuses none. */
const unlimited = {
  requestsPerSecond: 1e9,
  requestBurst: 1e9,
  eventsPerSecond: 1e12,
  eventBurst: 1e12,
};

const run = async () => {
  const name = `nno_bench_noisy_${runId}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  const version = (await admin.query("select version() as v")).rows[0].v as string;
  await admin.query(`create database "${name}"`);
  await admin.end();
  const dbUrl = new URL(adminUrl);
  dbUrl.pathname = `/${name}`;
  const info = machine();
  log(`machine: nproc ${info.nproc}; node ${info.node}; ${version}`);
  log(
    `B reads GET /usage/current at ${READ_RATE} req/s for ${SECONDS} s (after ${WARMUP} s of warm-up); ` +
      `A floods POST /usage/events, batches of ${BATCH}, ${CONNECTIONS} connections`,
  );
  const results: PhaseResult[] = [];
  let server: Server | undefined;
  try {
    log("\n== BILLING_RATE_LIMITS=off (no limiter)");
    server = await startServer({ DATABASE_URL: dbUrl.toString(), BILLING_RATE_LIMITS: "off" });
    const a = await provision(server, "noisy_a");
    const b = await provision(server, "quiet_b");
    // B has some usage, so its reads aggregate real rollups.
    for (let i = 0; i < 20; i++) {
      await fetch(`${server.url}/usage/events`, {
        method: "POST",
        headers: { authorization: `Bearer ${b.serviceKey}`, "content-type": "application/json" },
        body: batchBody(b.platformId),
      });
    }
    results.push(await phase(server, "B alone", a, b, false));
    results.push(await phase(server, "B while A floods", a, b, true));
    await stopServer(server);

    log("\n== default limits (B's per-key request limit raised for its read rate)");
    server = await startServer({ DATABASE_URL: dbUrl.toString() });
    await call(server, "PUT", `/operator/platforms/${b.platformId}/limits`, {
      requestsPerSecond: READ_RATE * 4,
      requestBurst: READ_RATE * 8,
    });
    await call(server, "PUT", `/operator/platforms/${a.platformId}/limits`, unlimited);
    results.push(await phase(server, "B alone", a, b, false));
    results.push(await phase(server, "B while A floods, A's limits out of reach", a, b, true));
    await call(server, "PUT", `/operator/platforms/${a.platformId}/limits`, {});
    results.push(await phase(server, "B while A floods, default limits", a, b, true));
    // The defaults bind only when A can go faster than 20,000 events/s; this shows the limit
    // when it surely binds.
    await call(server, "PUT", `/operator/platforms/${a.platformId}/limits`, {
      eventsPerSecond: TIGHT_EVENTS,
      eventBurst: TIGHT_EVENTS,
    });
    results.push(
      await phase(
        server,
        `B while A floods, A held to ${TIGHT_EVENTS} events/s by the operator`,
        a,
        b,
        true,
      ),
    );
  } finally {
    if (server) await stopServer(server);
    const cleanup = new pg.Client({ connectionString: adminUrl });
    await cleanup.connect();
    await cleanup.query(`drop database if exists "${name}" with (force)`);
    await cleanup.end();
  }

  const [offAlone, offFlood, onAlone, onUnlimited, onDefault, onTight] = results as [
    PhaseResult,
    PhaseResult,
    PhaseResult,
    PhaseResult,
    PhaseResult,
    PhaseResult,
  ];
  const ratio = (r: PhaseResult, base: PhaseResult) => round(r.reads.p99 / base.reads.p99, 2);
  log("\n== B's GET /usage/current p99 (ratio to B alone on the same server)");
  log(
    `   no limiter:  alone ${offAlone.reads.p99} ms; A flooding ${offFlood.reads.p99} ms (x${ratio(offFlood, offAlone)})`,
  );
  log(
    `   limits on:   alone ${onAlone.reads.p99} ms (x${ratio(onAlone, offAlone)} of no limiter); ` +
      `A flooding out of reach of its limits ${onUnlimited.reads.p99} ms (x${ratio(onUnlimited, onAlone)}); ` +
      `A flooding under the default limits ${onDefault.reads.p99} ms (x${ratio(onDefault, onAlone)}); ` +
      `A held to ${TIGHT_EVENTS} events/s ${onTight.reads.p99} ms (x${ratio(onTight, onAlone)})`,
  );
};

await run();
