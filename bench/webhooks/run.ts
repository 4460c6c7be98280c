/**
 * `npm run bench:webhooks [-- --events=10000] [--receivers=3] [--rounds=3]` (or WEBHOOKS_EVENTS)
 *
 * Webhook delivery on PostgreSQL (a fresh database created from DATABASE_URL or
 * postgres://postgres@127.0.0.1:5432/test, dropped at the end): `--events` events are recorded
 * (batches of 500, one transaction each) while the delivery loop runs (LISTEN/NOTIFY, as in
 * `npm start`), fanned out to `--receivers` local HTTP receivers (one operator endpoint each), so
 * events × receivers signed deliveries. Measured: deliveries/s from the first commit to the last
 * receipt, and the commit → receipt latency of each delivery.
 *
 * Baseline, same process, same receivers: a bare HTTP POST loop (a body of the same event's
 * compact JSON, the same number of requests, 32 in flight — the bare loop's best concurrency —
 * node:http with keep-alive), no database and no signing.
 *
 * Method: `--rounds` rounds, each a bare round then a delivery round (the delivery loop runs only
 * in delivery rounds; after each, VACUUM ANALYZE and CHECKPOINT run outside both measurements so
 * the next bare round does not share the machine with PostgreSQL's clean-up). Each round's ratio
 * compares two measurements seconds apart, so the machine's drift (the bare rate alone varies
 * 8k–16k req/s between runs on a shared 2-vCPU machine) moves both; the result is the median of
 * the rounds' ratios (target ≥ 0.5). Each phase also reports this process's CPU time (user +
 * system) per request: PostgreSQL's own CPU is not in it.
 *
 * Idle latency: 200 events committed one at a time, 25 ms apart, with the loop idle in between;
 * p50/p99 commit → receipt (target p99 < 1 s).
 */
import { randomBytes } from "node:crypto";
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { cpus } from "node:os";
import { parseArgs } from "node:util";
import pg from "pg";
import pino from "pino";
import { systemClock } from "../../src/clock.ts";
import { composeContext } from "../../src/compose.ts";
import { loadConfig } from "../../src/config.ts";
import { wrapPool } from "../../src/db/client.ts";
import { migrate } from "../../src/db/migrate.ts";
import { type NewEvent, recordEvents } from "../../src/services/events/record-event.ts";
import { createWebhookEndpoint } from "../../src/services/webhooks/endpoints.ts";
import { startWebhookDelivery } from "../../src/worker/webhook-delivery.ts";

const { values: args } = parseArgs({
  options: {
    events: { type: "string" },
    receivers: { type: "string" },
    rounds: { type: "string" },
  },
});
const EVENTS = Number(args.events ?? process.env.WEBHOOKS_EVENTS ?? 10_000);
const RECEIVERS = Number(args.receivers ?? 3);
const ROUNDS = Number(args.rounds ?? 3);
const BATCH = 500;
/** The delivery loop's lanes (`LANES` in src/services/webhooks/deliver.ts). */
const CONCURRENCY = 32;
const IDLE_EVENTS = 200;

const adminUrl = process.env.DATABASE_URL?.startsWith("postgres")
  ? process.env.DATABASE_URL
  : "postgres://postgres@127.0.0.1:5432/test";
const logger = pino({ level: process.env.LOG_LEVEL ?? "warn" });
const config = loadConfig({ NODE_ENV: "test", BILLING_DATA_DIR: "/nonexistent-bench-data-dir" });

const withName = (url: string, name: string) => {
  const parsed = new URL(url);
  parsed.pathname = `/${name}`;
  return parsed.toString();
};

const quantile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;

/** Local receivers answering 200 at once; each receipt is timed and reported. */
const startReceivers = async (onReceipt: (id: string, at: number) => void) => {
  const servers: Server[] = [];
  for (let k = 0; k < RECEIVERS; k++) {
    const server = createServer((req, res) => {
      req.resume();
      req.on("end", () => {
        onReceipt(String(req.headers["webhook-id"] ?? ""), performance.now());
        res.writeHead(200).end("ok");
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    servers.push(server);
  }
  return {
    urls: servers.map((s) => `http://127.0.0.1:${(s.address() as AddressInfo).port}/hooks`),
    close: () =>
      Promise.all(
        servers.map(
          (s) =>
            new Promise<void>((resolve) => {
              s.closeAllConnections();
              s.close(() => resolve());
            }),
        ),
      ),
  };
};

const post = (url: string, body: string) =>
  new Promise<void>((resolve, reject) => {
    const req = request(
      url,
      {
        method: "POST",
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
      },
      (res) => {
        res.resume();
        res.on("end", () => resolve());
      },
    );
    req.on("error", reject);
    req.end(body);
  });

const eventOf = (k: number): NewEvent => ({
  type: "customer.balance_changed",
  platformId: null,
  object: {
    customerId: `cus_bench_${k}`,
    platformId: null,
    currency: "usd",
    balance: 1250 + k,
    amount: 1250,
    reason: "operator_credit",
  },
});

const main = async () => {
  const name = `nno_bench_webhooks_${randomBytes(5).toString("hex")}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  const version = (await admin.query("show server_version")).rows[0]?.server_version as string;
  await admin.end();
  const pool = new pg.Pool({ connectionString: withName(adminUrl, name), max: 10 });
  pool.on("error", () => {});
  const database = wrapPool(pool);
  const drop = async () => {
    await database.close();
    const a = new pg.Client({ connectionString: adminUrl });
    await a.connect();
    await a.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await a.end();
  };
  try {
    await migrate(database);
    const { ctx } = composeContext({ database, config, logger, clock: systemClock });

    const committedAt = new Map<string, number>();
    const latencies: number[] = [];
    let receipts = 0;
    let lastReceipt = 0;
    let onCount: (() => void) | undefined;
    let waitingFor = Number.POSITIVE_INFINITY;
    const receivers = await startReceivers((id, at) => {
      receipts += 1;
      lastReceipt = at;
      const committed = committedAt.get(id);
      if (committed !== undefined) latencies.push(at - committed);
      if (receipts >= waitingFor) onCount?.();
    });
    const until = (count: number) =>
      new Promise<void>((resolve) => {
        if (receipts >= count) return resolve();
        waitingFor = count;
        onCount = resolve;
      });

    const sample = JSON.stringify({
      id: "evt_01jd4x3v6dfz8r9m2k7q5w1n0c",
      type: "customer.balance_changed",
      createdAt: new Date().toISOString(),
      platformId: null,
      data: { object: eventOf(0).object },
    });

    // Baseline: the bare POST loop (warmed once here, timed in each round).
    const bare = async (count: number) => {
      let next = 0;
      const started = performance.now();
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (next < count) {
            const k = next++;
            await post(receivers.urls[k % RECEIVERS] as string, sample);
          }
        }),
      );
      return performance.now() - started;
    };
    await bare(2_000);
    const total = EVENTS * RECEIVERS;

    for (const url of receivers.urls) {
      await createWebhookEndpoint({
        ctx,
        principal: { kind: "operator" },
        input: { url, enabledEvents: ["*"] },
      });
    }
    // The delivery loop runs only in delivery rounds (and the idle phase), as in `npm start`.
    const startLoop = async () => {
      const loop = startWebhookDelivery(ctx, { pollMs: 1_000 });
      await new Promise((r) => setTimeout(r, 300));
      return loop;
    };

    // Warm-up of the delivery path (not timed).
    let loop = await startLoop();
    receipts = 0;
    await database.db.transaction((tx) =>
      recordEvents({
        tx,
        input: {
          now: systemClock.now(),
          events: Array.from({ length: 200 }, (_, k) => eventOf(k)),
        },
      }),
    );
    await until(200 * RECEIVERS);
    await loop.stop();

    /** CPU time of this process (µs, user + system) per request of a phase. */
    const cpuPer = (since: NodeJS.CpuUsage, requests: number) => {
      const used = process.cpuUsage(since);
      return (used.user + used.system) / requests;
    };
    const fmt = (n: number) => n.toFixed(n < 10 ? 1 : 0);
    console.log(
      `webhooks: PostgreSQL ${version}, ${cpus().length} CPUs, Node ${process.version}; ${EVENTS} events × ${RECEIVERS} receivers = ${total} deliveries per round, ${ROUNDS} rounds`,
    );

    // Rounds: a bare loop of `total` requests, then `total` deliveries, from the first commit to
    // the last receipt; each round's ratio compares two measurements minutes apart at most.
    const rounds: { bare: number; delivery: number; ratio: number }[] = [];
    const loaded: number[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      let cpu = process.cpuUsage();
      const bareRate = (total / (await bare(total))) * 1000;
      const bareCpu = cpuPer(cpu, total);

      loop = await startLoop();
      receipts = 0;
      latencies.length = 0;
      cpu = process.cpuUsage();
      const started = performance.now();
      for (let b = 0; b < EVENTS / BATCH; b++) {
        const ids = await database.db.transaction((tx) =>
          recordEvents({
            tx,
            input: {
              now: systemClock.now(),
              events: Array.from({ length: BATCH }, (_, k) => eventOf(b * BATCH + k)),
            },
          }),
        );
        const at = performance.now();
        for (const id of ids) committedAt.set(id, at);
      }
      const recordedMs = performance.now() - started;
      await until(total);
      const deliveryMs = lastReceipt - started;
      const deliveryCpu = cpuPer(cpu, total);
      await loop.stop();
      // The next bare round should not share the machine with PostgreSQL's clean-up of this
      // round's rows (autovacuum, a checkpoint): do it now, outside both measurements.
      await pool.query("VACUUM ANALYZE webhook_deliveries, webhook_attempts, events");
      await pool.query("CHECKPOINT");
      const loadRate = (total / deliveryMs) * 1000;
      loaded.push(...latencies);
      rounds.push({ bare: bareRate, delivery: loadRate, ratio: loadRate / bareRate });
      console.log(
        `round ${round}: bare POST loop (concurrency ${CONCURRENCY}) ${fmt(bareRate)} req/s, ${fmt(bareCpu)} µs CPU each; delivery ${fmt(loadRate)} deliveries/s, ${fmt(deliveryCpu)} µs CPU each (events recorded in ${fmt(recordedMs)} ms); ratio ${(loadRate / bareRate).toFixed(2)}`,
      );
    }
    loaded.sort((a, b) => a - b);
    const ratios = rounds.map((r) => r.ratio).sort((a, b) => a - b);
    const median = (sorted: number[]) =>
      sorted.length % 2 === 1
        ? (sorted[(sorted.length - 1) / 2] as number)
        : ((sorted[sorted.length / 2 - 1] as number) + (sorted[sorted.length / 2] as number)) / 2;

    // Idle latency: one event at a time.
    loop = await startLoop();
    receipts = 0;
    latencies.length = 0;
    for (let k = 0; k < IDLE_EVENTS; k++) {
      const [id] = await database.db.transaction((tx) =>
        recordEvents({ tx, input: { now: systemClock.now(), events: [eventOf(k)] } }),
      );
      if (id) committedAt.set(id, performance.now());
      await until((k + 1) * RECEIVERS);
      await new Promise((r) => setTimeout(r, 25));
    }
    const idle = [...latencies].sort((a, b) => a - b);
    await loop.stop();
    await receivers.close();

    console.log(
      `ratio (median of ${ROUNDS} rounds): ${median(ratios).toFixed(2)} (target >= 0.50; rounds ${rounds.map((r) => r.ratio.toFixed(2)).join(", ")})`,
    );
    console.log(
      `  commit -> receipt under load: p50 ${fmt(quantile(loaded, 0.5))} ms, p99 ${fmt(quantile(loaded, 0.99))} ms`,
    );
    console.log(
      `idle (${IDLE_EVENTS} single events): commit -> receipt p50 ${fmt(quantile(idle, 0.5))} ms, p99 ${fmt(quantile(idle, 0.99))} ms (target p99 < 1000 ms)`,
    );
  } finally {
    await drop();
  }
};

await main();
