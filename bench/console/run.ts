/**
 * `npm run bench:console [-- --platforms=10000 --invoices=120000 --seconds=10]`
 *
 * The operator console at scale (issue 17): a fresh PostgreSQL database (from DATABASE_URL or
 * postgres://postgres@127.0.0.1:5432/test, dropped afterwards) is seeded with bulk SQL, not
 * through the API — 10,000 platforms with their customers and subscriptions (mixed tiers,
 * intervals and statuses), 120,000 invoices with a line each spread over the last year, two
 * weeks of daily usage per platform, a few credits, usage alerts, a year of daily MRR
 * snapshots in two currencies and the days' money collected (as the worker records them). The service is composed as `npm start` composes it and served
 * over loopback; a signed-in session then loads, with 10 concurrent connections (autocannon):
 *
 * - the overview (`/console`), and
 * - a platform's page (`/console/platforms/<id>`), a different platform on every request.
 *
 * Server time is measured around the app's `fetch` (request in → response body produced),
 * client latency by autocannon. Target (DESIGN §11): p99 server time < 100 ms for both.
 */
import { randomBytes } from "node:crypto";
import { cpus } from "node:os";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { serve } from "@hono/node-server";
import autocannon from "autocannon";
import pg from "pg";
import pino from "pino";
import { ManualClock } from "../../src/clock.ts";
import { composeService } from "../../src/compose.ts";
import { loadConfig } from "../../src/config.ts";
import { wrapPool } from "../../src/db/client.ts";
import { migrate } from "../../src/db/migrate.ts";
import {
  alertsThisPeriod,
  paymentsAwaitingRetry,
  revenueByMonth,
} from "../../src/services/console/console-overview.ts";
import { mrrHistory } from "../../src/services/console/mrr-snapshots.ts";
import { billingOverview } from "../../src/services/overview.ts";
import { freePort } from "../free-port.ts";

const { values: args } = parseArgs({
  options: {
    platforms: { type: "string" },
    invoices: { type: "string" },
    seconds: { type: "string" },
    profile: { type: "boolean" },
    keep: { type: "boolean" },
  },
});
const PLATFORMS = Number(args.platforms ?? 10_000);
const INVOICES = Number(args.invoices ?? 120_000);
const SECONDS = Number(args.seconds ?? 10);
const CONNECTIONS = 10;
const TARGET_P99_MS = 100;
const NOW = "2026-06-15T12:00:00.000Z";

const adminUrl = process.env.DATABASE_URL?.startsWith("postgres")
  ? process.env.DATABASE_URL
  : "postgres://postgres@127.0.0.1:5432/test";
const withName = (url: string, name: string) => {
  const parsed = new URL(url);
  parsed.pathname = `/${name}`;
  return parsed.toString();
};
const admin = async (sql: string) => {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    return await client.query(sql);
  } finally {
    await client.end();
  }
};

/** The seed, in set-based statements: ids and amounts follow from `generate_series`. */
const seedStatements = (now: string) => [
  `insert into platforms (platform_id, name, email, customer_id, created_at, updated_at)
   select 'plat_' || g, 'Platform ' || g, 'billing+' || g || '@example.com', 'cus_' || g,
          timestamptz '${now}' - (g || ' minutes')::interval, timestamptz '${now}'
   from generate_series(1, ${PLATFORMS}) g`,
  `insert into customers (id, platform_id, email, name, created_at, updated_at)
   select 'cus_' || g, 'plat_' || g, 'billing+' || g || '@example.com', 'Platform ' || g,
          timestamptz '${now}' - interval '400 days', timestamptz '${now}'
   from generate_series(1, ${PLATFORMS}) g`,
  `insert into subscriptions (platform_id, id, customer_id, status, tier, price_id, interval,
     unit_amount, currency, billing_anchor, current_period_start, current_period_end,
     created_at, updated_at)
   select 'plat_' || g, 'sub_' || g, 'cus_' || g,
          (array['active','active','active','active','active','trialing','past_due','unpaid'])[1 + g % 8],
          (array['starter','growth','scale'])[1 + g % 3],
          'price_' || (array['starter','growth','scale'])[1 + g % 3] || case when g % 5 = 0 then '_yearly' else '_monthly' end,
          case when g % 5 = 0 then 'year' else 'month' end,
          (array[2900, 9900, 49900])[1 + g % 3] * case when g % 5 = 0 then 10 else 1 end,
          'usd', timestamptz '${now}' - interval '400 days' + (g % 28 || ' days')::interval,
          timestamptz '${now}' - (g % 28 || ' days')::interval,
          timestamptz '${now}' - (g % 28 || ' days')::interval + interval '1 month',
          timestamptz '${now}' - interval '400 days', timestamptz '${now}'
   from generate_series(1, ${PLATFORMS}) g`,
  `insert into invoices (platform_id, id, customer_id, subscription_id, kind, number, status,
     currency, period_start, period_end, subtotal, total, amount_due, amount_paid, attempt_count,
     next_payment_attempt, created_at, finalized_at, paid_at)
   select 'plat_' || p, 'in_' || g, 'cus_' || p, 'sub_' || p, 'renewal',
          'NNO-' || lpad(g::text, 6, '0'),
          case when g % 97 = 0 then 'open' else 'paid' end, 'usd',
          at - interval '1 month', at, amount, amount, amount,
          case when g % 97 = 0 then 0 else amount end,
          case when g % 97 = 0 then 1 else 1 end,
          case when g % 97 = 0 then timestamptz '${now}' + interval '2 days' end,
          at, at, case when g % 97 = 0 then null else at end
   from (select g, 1 + g % ${PLATFORMS} as p,
                timestamptz '${now}' - ((g * 7919) % 365 || ' days')::interval as at,
                (array[2900, 9900, 49900])[1 + g % 3] as amount
         from generate_series(1, ${INVOICES}) g) s`,
  `insert into invoice_lines (id, invoice_id, position, type, description, quantity, unit_amount,
     amount)
   select 'il_' || g, 'in_' || g, 0, 'subscription', 'Subscription', 1, total, total
   from (select g, (array[2900, 9900, 49900])[1 + g % 3] as total
         from generate_series(1, ${INVOICES}) g) s`,
  `insert into usage_platform_rollups (platform_id, meter, bucket, total, event_count, peak,
     last_value, last_at, last_event_id)
   select 'plat_' || p, 'api_requests', date_trunc('day', timestamptz '${now}') - (d || ' days')::interval,
          1000 * (p % 50 + d), 10, 100, 100, timestamptz '${now}' - (d || ' days')::interval, 'evt'
   from generate_series(1, ${PLATFORMS}) p, generate_series(0, 13) d`,
  `insert into balance_entries (id, customer_id, currency, amount, kind, description, created_at)
   select 'cbtxn_' || g, 'cus_' || g, 'usd', 1250, 'operator_credit', 'goodwill',
          timestamptz '${now}' - interval '3 days'
   from generate_series(1, ${PLATFORMS}, 7) g`,
  `insert into usage_alerts (platform_id, period_start, meter, threshold, value, included, raised_at)
   select 'plat_' || g, timestamptz '${now}' - (g % 28 || ' days')::interval, 'api_requests',
          80, 800000, 1000000, timestamptz '${now}'
   from generate_series(1, ${PLATFORMS}, 11) g`,
  `insert into mrr_snapshots (day, currency, amount, subscriptions, recorded_at)
   select (date '${now.slice(0, 10)}' - d), c, 100000000 + d * 1000, ${PLATFORMS}, timestamptz '${now}'
   from generate_series(0, 364) d, unnest(array['usd', 'eur']) c`,
  // The worker's daily revenue, as its first pass backfills it.
  `insert into revenue_days (day, currency, collected, recorded_at)
   select (paid_at at time zone 'UTC')::date, currency, sum(amount_paid), timestamptz '${now}'
   from invoices where paid_at is not null group by 1, 2`,
  // As autovacuum leaves a table that has settled: statistics and the visibility map set.
  "vacuum analyze",
];

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;

const main = async () => {
  const name = `nno_bench_console_${randomBytes(5).toString("hex")}`;
  await admin(`CREATE DATABASE "${name}"`);
  const pool = new pg.Pool({ connectionString: withName(adminUrl, name), max: 10 });
  pool.on("error", () => {});
  const database = wrapPool(pool);
  let closeServer = async () => {};
  try {
    await migrate(database);
    const seedStarted = performance.now();
    for (const statement of seedStatements(NOW)) await pool.query(statement);
    const seedSeconds = (performance.now() - seedStarted) / 1000;

    const config = loadConfig({ NODE_ENV: "test", BILLING_DATA_DIR: "/nonexistent-bench-dir" });
    const clock = new ManualClock(NOW);
    const operatorKey = `nno_op_${randomBytes(20).toString("hex")}`;
    const service = composeService({
      database,
      config,
      logger: pino({ level: "warn" }),
      clock,
      operatorKey,
    });
    if (args.profile) {
      // Each part of the overview alone, one at a time: where its time goes.
      const ctx = service.deps;
      const parts = {
        billingOverview: () => billingOverview({ ctx }),
        mrrHistory: () => mrrHistory({ ctx, input: { days: 365 } }),
        revenueByMonth: () => revenueByMonth({ ctx }),
        paymentsAwaitingRetry: () => paymentsAwaitingRetry({ ctx, input: { limit: 10 } }),
        alertsThisPeriod: () => alertsThisPeriod({ ctx }),
      };
      for (const [part, run] of Object.entries(parts)) {
        const times: number[] = [];
        for (let i = 0; i < 10; i++) {
          const started = performance.now();
          await run();
          times.push(performance.now() - started);
        }
        times.sort((a, b) => a - b);
        console.log(`${part}: median ${percentile(times, 50).toFixed(1)} ms`);
      }
    }
    let serverTimes: number[] = [];
    const port = await freePort();
    const server = serve({
      port,
      hostname: "127.0.0.1",
      fetch: async (request) => {
        const started = performance.now();
        const response = await service.app.fetch(request);
        const body = await response.arrayBuffer();
        serverTimes.push(performance.now() - started);
        return new Response(body, response);
      },
    });
    closeServer = () => new Promise((resolve) => server.close(() => resolve()));
    const base = `http://127.0.0.1:${port}`;
    const signIn = await fetch(`${base}/console/sign-in`, {
      method: "POST",
      body: new URLSearchParams({ key: operatorKey }),
      redirect: "manual",
    });
    const cookie = (signIn.headers.get("set-cookie") ?? "").split(";")[0] as string;
    if (signIn.status !== 303 || !cookie) throw new Error(`sign-in failed: ${signIn.status}`);

    const run = (path: () => string, connections: number, duration: number) =>
      new Promise<autocannon.Result>((resolve, reject) =>
        autocannon(
          {
            url: base,
            connections,
            duration,
            headers: { cookie },
            requests: [{ method: "GET", setupRequest: (req) => ({ ...req, path: path() }) }],
          },
          (error, done) => (error ? reject(error) : resolve(done)),
        ),
      );
    const load = async (label: string, path: () => string, connections = CONNECTIONS) => {
      // Warm-up, untimed, at the load's own concurrency: plans, the JIT, and every pooled
      // connection's prepared statements (a long-running service has them all).
      for (let i = 0; i < 20; i++) {
        const res = await fetch(`${base}${path()}`, { headers: { cookie } });
        if (res.status !== 200) throw new Error(`${label}: ${res.status} ${await res.text()}`);
      }
      await run(path, connections, 2);
      serverTimes = [];
      const result = await run(path, connections, SECONDS);
      await new Promise((resolve) => setTimeout(resolve, 1000)); // let the last responses finish
      const sorted = [...serverTimes].sort((a, b) => a - b);
      return {
        page: label,
        connections,
        requests: result.requests.total,
        non2xx: result.non2xx,
        perSecond: Math.round(result.requests.average),
        serverP50: Number(percentile(sorted, 50).toFixed(1)),
        serverP99: Number(percentile(sorted, 99).toFixed(1)),
        clientP99: result.latency.p99,
      };
    };
    let next = 0;
    const platformPage = () => `/console/platforms/plat_${1 + (next++ % PLATFORMS)}`;
    const results = [
      await load("overview", () => "/console"),
      await load("platform page", platformPage),
    ];
    // One request at a time: what a page costs alone (the floor under the 10-connection p99).
    const alone = [
      await load("overview", () => "/console", 1),
      await load("platform page", platformPage, 1),
    ];
    console.log(
      JSON.stringify(
        {
          machine: `${cpus().length} cores, ${cpus()[0]?.model ?? "?"}`,
          database: (await pool.query("show server_version")).rows[0]?.server_version,
          platforms: PLATFORMS,
          invoices: INVOICES,
          seedSeconds: Number(seedSeconds.toFixed(1)),
          connections: CONNECTIONS,
          seconds: SECONDS,
          results,
          alone,
          target: `p99 server time < ${TARGET_P99_MS} ms`,
          met: results.every((r) => r.serverP99 < TARGET_P99_MS && r.non2xx === 0),
        },
        null,
        2,
      ),
    );
  } finally {
    await closeServer();
    await database.close();
    if (args.keep) console.log(`kept database ${name}`);
    else await admin(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  }
};

await main();
