/**
 * `npm run bench:documents [-- --seconds=5 --requests=400 --concurrency=20 --db=pglite|postgres]`
 *
 * Issue 16's documents benchmark, in one process on this machine:
 * 1. PDFs rendered per second for a 10-line and a 200-line invoice: `invoicePdf` (the service
 *    behind `GET /invoices/{id}/pdf`: reads the invoice, its lines, customer and credit notes,
 *    then renders with pdfkit), back to back for `--seconds` each after a warm-up; with the
 *    mean and p99 time of one PDF. Target (DESIGN §11): a 10-line PDF in < 50 ms.
 * 2. Time to first byte of `GET /invoices/{id}/pdf` (10 lines) over HTTP on a loopback port,
 *    `--requests` requests from `--concurrency` concurrent clients (default 20): p50, p99, max.
 * The invoices are issued through `issueInvoice` on a fresh database (PGlite in memory by
 * default; `--db=postgres` creates one from DATABASE_URL or postgres://postgres@127.0.0.1:5432/test
 * and drops it afterwards). bench/README.md keeps results.
 */
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { cpus, loadavg } from "node:os";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { PGlite } from "@electric-sql/pglite";
import { serve } from "@hono/node-server";
import pg from "pg";
import pino from "pino";
import { ManualClock } from "../../src/clock.ts";
import { composeService } from "../../src/compose.ts";
import { loadConfig } from "../../src/config.ts";
import { type Database, wrapPglite, wrapPool } from "../../src/db/client.ts";
import { migrate } from "../../src/db/migrate.ts";
import { invoicePdf } from "../../src/services/documents/documents.ts";
import { issueInvoice } from "../../src/services/invoicing.ts";

const { values: args } = parseArgs({
  options: {
    seconds: { type: "string" },
    requests: { type: "string" },
    concurrency: { type: "string" },
    db: { type: "string" },
  },
});
const SECONDS = Number(args.seconds ?? 5);
const REQUESTS = Number(args.requests ?? 400);
const CONCURRENCY = Number(args.concurrency ?? 20);
const DB = args.db ?? "pglite";
const adminUrl = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
const ms = (n: number) => Math.round(n * 100) / 100;

const openDatabase = async (): Promise<{ database: Database; drop: () => Promise<void> }> => {
  if (DB === "pglite") {
    const database = wrapPglite(await PGlite.create());
    await migrate(database);
    return { database, drop: () => database.close() };
  }
  const name = `bench_documents_${Date.now().toString(36)}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const database = wrapPool(new pg.Pool({ connectionString: url.toString(), max: 10 }));
  await migrate(database);
  return {
    database,
    drop: async () => {
      await database.close();
      await admin.query(`drop database if exists ${name} with (force)`);
      await admin.end();
    },
  };
};

const main = async () => {
  const { database, drop } = await openDatabase();
  const clock = new ManualClock("2026-01-15T12:00:00.000Z");
  const config = loadConfig({
    NODE_ENV: "test",
    BILLING_DATA_DIR: "/nonexistent-bench-dir",
    LOG_LEVEL: "silent",
    BILLING_RATE_LIMITS: "off",
    BILLING_SELLER_NAME: "NNO Billing Ltd",
    BILLING_SELLER_ADDRESS: "1 Seller Street|10115 Berlin|DE",
    BILLING_SELLER_TAX_ID: "DE123456789",
  });
  const operatorKey = "nno_op_bench_documents_0123456789";
  const service = composeService({
    database,
    config,
    logger: pino({ level: "silent" }),
    clock,
    operatorKey,
  });
  const ctx = service.deps;
  const customer = await ctx.processor.createCustomer({
    email: "bench@example.com",
    name: "Bench Co",
  });
  const { storeCustomer } = await import("../../src/services/customers.ts");
  await storeCustomer({ tx: ctx.db, input: { customer, now: clock.now() } });

  const issue = async (lines: number) => {
    const row = await issueInvoice({
      tx: ctx.db,
      input: {
        now: clock.now(),
        baseUrl: ctx.config.publicBaseUrl,
        invoice: {
          kind: "manual",
          platformId: null,
          customerId: customer.id,
          subscriptionId: null,
          currency: "usd",
          periodStart: new Date("2026-01-01T00:00:00Z"),
          periodEnd: new Date("2026-02-01T00:00:00Z"),
          lines: Array.from({ length: lines }, (_, k) => ({
            type: "usage" as const,
            description: `Usage line ${k + 1}: API requests over the included quantity`,
            quantity: k + 1,
            unitAmount: 125,
            amount: 125 * (k + 1),
            periodStart: new Date("2026-01-01T00:00:00Z"),
            periodEnd: new Date("2026-02-01T00:00:00Z"),
          })),
          draft: false,
        },
      },
    });
    if (!row) throw new Error("invoice not issued");
    return row.id;
  };
  const small = await issue(10);
  const large = await issue(200);
  const operator = { kind: "operator" as const };

  console.log(
    `documents bench: ${DB}, ${cpus().length} cpus, load ${loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}, node ${process.version}`,
  );
  for (const [label, invoiceId] of [
    ["10 lines", small],
    ["200 lines", large],
  ] as const) {
    for (let i = 0; i < 5; i++)
      await invoicePdf({ ctx, principal: operator, input: { invoiceId } });
    const times: number[] = [];
    let bytes = 0;
    const until = performance.now() + SECONDS * 1000;
    const started = performance.now();
    while (performance.now() < until) {
      const t0 = performance.now();
      const pdf = await invoicePdf({ ctx, principal: operator, input: { invoiceId } });
      times.push(performance.now() - t0);
      bytes = pdf.bytes.length;
    }
    const elapsed = (performance.now() - started) / 1000;
    times.sort((a, b) => a - b);
    console.log(
      `  ${label}: ${(times.length / elapsed).toFixed(1)} PDFs/s, mean ${ms(
        times.reduce((s, t) => s + t, 0) / times.length,
      )} ms, p50 ${ms(percentile(times, 50))} ms, p99 ${ms(percentile(times, 99))} ms (${times.length} PDFs, ${bytes} bytes each)`,
    );
  }

  const server = await new Promise<Server>((resolve) => {
    const s = serve({ fetch: service.app.fetch, port: 0, hostname: "127.0.0.1" }, () =>
      resolve(s as Server),
    );
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/invoices/${small}/pdf`;
  const headers = { authorization: `Bearer ${operatorKey}` };
  const ttfb: number[] = [];
  let next = 0;
  const client = async () => {
    while (next < REQUESTS) {
      next += 1;
      const t0 = performance.now();
      const res = await fetch(url, { headers });
      ttfb.push(performance.now() - t0);
      if (res.status !== 200) throw new Error(`GET pdf answered ${res.status}`);
      await res.arrayBuffer();
    }
  };
  await Promise.all(
    Array.from({ length: 5 }, () => fetch(url, { headers }).then((r) => r.arrayBuffer())),
  );
  const started = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, client));
  const elapsed = (performance.now() - started) / 1000;
  ttfb.sort((a, b) => a - b);
  console.log(
    `  GET /invoices/{id}/pdf (10 lines), ${CONCURRENCY} concurrent, ${REQUESTS} requests: ${(REQUESTS / elapsed).toFixed(1)} req/s, TTFB p50 ${ms(percentile(ttfb, 50))} ms, p99 ${ms(percentile(ttfb, 99))} ms, max ${ms(ttfb.at(-1) ?? 0)} ms`,
  );
  await new Promise((resolve) => server.close(resolve));
  await service.close().catch(() => {});
  await drop().catch(() => {});
};

await main();
process.exit(0);
