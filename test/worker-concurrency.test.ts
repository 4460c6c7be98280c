import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import pino from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { type Clock, ManualClock, systemClock } from "../src/clock.ts";
import { composeContext } from "../src/compose.ts";
import { loadConfig } from "../src/config.ts";
import { type Database, wrapPool } from "../src/db/client.ts";
import type { ServiceContext } from "../src/services/context.ts";
import { runDueWork } from "../src/worker/due-work.ts";
import { expectedFacts, renewalFacts } from "./fixtures/renewal-facts.ts";
import { seedDueSubscriptions } from "./fixtures/renewal-seed.ts";
import { createTestDatabase, postgresUrl } from "./test-database.ts";

/**
 * The worker is safe to run on many instances against one database (issue 4): every due
 * subscription is claimed with FOR UPDATE SKIP LOCKED and a unique index forbids a second
 * invoice for a period. Here two workers race over the same due subscriptions, and afterwards
 * each subscription has exactly one renewal invoice, paid by exactly one successful charge in
 * the emulator, and has moved forward exactly one period; the invoice numbers the racing workers
 * took are distinct and gap-free. The facts are counted from both sides
 * (test/fixtures/renewal-facts.ts): the service's invoices and subscriptions, and the emulator's
 * payment intents and charges, matched by the invoice id in their metadata.
 */
const root = new URL("..", import.meta.url).pathname;
const config = loadConfig({ NODE_ENV: "test", BILLING_DATA_DIR: "/nonexistent-test-data-dir" });
const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" });

const cleanups: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

/** What the worker and the API build at start, on a given database and clock. */
const serviceContext = (database: Database, clock: Clock): ServiceContext =>
  composeContext({ database, config, logger, clock }).ctx;

interface WorkerRun {
  code: number | null;
  stderr: string;
  done: { renewed: number; attempted: number } | undefined;
}

/** `npm run worker -- --once`, as a process of its own (node + tsx, without npm's wrapper). */
const runWorkerOnce = (env: Record<string, string>, started: ChildProcess[]) =>
  new Promise<WorkerRun>((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", "src/worker/main.ts", "--once"], {
      cwd: root,
      env: {
        ...process.env,
        // The built-in emulator, in the worker's own process, over the shared database.
        STRIPE_SECRET_KEY: "",
        STRIPE_API_BASE: "",
        BILLING_OPERATOR_KEY: "",
        BILLING_TEST_CLOCK: "",
        LOG_LEVEL: "info",
        NODE_ENV: "production",
        ...env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    started.push(child);
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (d) => {
      stdout += String(d);
    });
    child.stderr?.on("data", (d) => {
      stderr += String(d);
    });
    child.on("error", reject);
    child.on("exit", (code) => {
      let done: WorkerRun["done"];
      for (const line of stdout.split("\n")) {
        try {
          const parsed = JSON.parse(line);
          if (parsed.msg === "worker pass done") done = parsed;
        } catch {
          // not a log line
        }
      }
      resolve({ code, stderr: `${stderr}${stdout.slice(-2000)}`, done });
    });
  });

describe.runIf(postgresUrl())("two worker processes against one PostgreSQL", () => {
  const COUNT = 1000;

  it(`renew the same ${COUNT} due subscriptions at once: one invoice and one charge per period`, async () => {
    const database = (await createTestDatabase({ poolSize: 10 })) as Database & { url: string };
    cleanups.push(() => database.close());
    const dataDir = await mkdtemp(join(tmpdir(), "nno-workers-"));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));

    // The workers run on the real clock, so the subscriptions are due now. The customers and
    // their cards are made through the SDK against the emulator's tables in this database.
    const seeding = serviceContext(database, systemClock);
    const seeded = await seedDueSubscriptions({
      db: database.db,
      processor: seeding.processor,
      count: COUNT,
      now: new Date(),
      concurrency: 8,
      prefix: "race",
    });
    expect(seeded).toHaveLength(COUNT);

    const children: ChildProcess[] = [];
    cleanups.push(async () => {
      for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
    });
    const env = { DATABASE_URL: database.url, BILLING_DATA_DIR: dataDir };
    const runs = await Promise.all([runWorkerOnce(env, children), runWorkerOnce(env, children)]);

    for (const run of runs) {
      expect(run.code, run.stderr).toBe(0);
      expect(run.done, run.stderr).toBeDefined();
    }
    const renewed = runs.map((r) => r.done?.renewed ?? 0);
    const attempted = runs.map((r) => r.done?.attempted ?? 0);
    const sum = (ns: number[]) => ns.reduce((a, b) => a + b, 0);
    // No subscription was renewed twice and no invoice charged twice, across both processes.
    expect(sum(renewed)).toBe(COUNT);
    expect(sum(attempted)).toBe(COUNT);
    // Both took part: the claims interleaved rather than one worker finding nothing to do.
    expect(Math.min(...renewed), `renewed by each worker: ${renewed}`).toBeGreaterThan(0);
    expect(Math.min(...attempted), `attempted by each worker: ${attempted}`).toBeGreaterThan(0);

    expect(await renewalFacts(database.db, seeded)).toEqual(expectedFacts(COUNT));
  }, 90_000);
});

describe("two due-work passes at once in one process", () => {
  const COUNT = 300;

  it(`renew ${COUNT} due subscriptions once each: one invoice and one charge per period`, async () => {
    const database = await createTestDatabase();
    cleanups.push(() => database.close());
    const clock = new ManualClock("2026-06-15T12:00:00.000Z");
    // On PostgreSQL the second pass has a pool of its own, as another instance would; PGlite is
    // one connection in this process, which serialises the two passes' statements.
    const url = (database as Database & { url?: string }).url;
    let other = database;
    if (database.kind === "postgres" && url) {
      other = wrapPool(new pg.Pool({ connectionString: url, max: 5 }));
      cleanups.push(() => other.close());
    }
    const first = serviceContext(database, clock);
    const second = serviceContext(other, clock);
    const seeded = await seedDueSubscriptions({
      db: database.db,
      processor: first.processor,
      count: COUNT,
      now: clock.now(),
      prefix: "pass",
    });

    const [a, b] = await Promise.all([runDueWork({ ctx: first }), runDueWork({ ctx: second })]);
    expect(a.renewed + b.renewed).toBe(COUNT);
    expect(a.attempted + b.attempted).toBe(COUNT);
    expect(await renewalFacts(database.db, seeded)).toEqual(expectedFacts(COUNT));

    // A further pass at the same instant finds nothing left to do.
    expect(await runDueWork({ ctx: first })).toEqual({
      renewed: 0,
      usageBilled: 0,
      attempted: 0,
      expired: 0,
      delivered: 0,
    });
  }, 90_000);
});
