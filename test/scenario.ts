import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { eq, sql } from "drizzle-orm";
import { afterEach, expect } from "vitest";
import type { Db } from "../src/db/client.ts";
import { migrationsFolder } from "../src/db/migrate.ts";
import { invoices, stripeEmuObjects } from "../src/db/schema/index.ts";
import type { Invoice } from "../src/services/invoicing.ts";
import { createTestApp, type TestApp, type TestResponse } from "./harness.ts";
import { expectNoViolations, type InvariantOptions } from "./invariants.ts";

/**
 * A billing scenario through HTTP on its own database, driven by the operator test clock (the
 * helpers of `billing-cycle.test.ts`, shared by the scenario suites). Apps are closed after each
 * test of the file that calls `useScenarios()`.
 */
export const useScenarios = () => {
  const open: TestApp[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((app) => app.close()));
  });
  return (start: string, opts: Parameters<typeof createTestApp>[0] = {}) =>
    scenario(start, opts, open);
};

const scenario = async (
  start: string,
  opts: Parameters<typeof createTestApp>[0],
  open: TestApp[],
) => {
  const t = await createTestApp({ ...opts, start });
  open.push(t);
  const clockTo = async (iso: string) => {
    const res = await t.request("POST", "/operator/test-clock", { body: { advanceTo: iso } });
    expect(res.status, res.text).toBe(200);
    expect(res.body.now).toBe(new Date(iso).toISOString());
  };
  const clockBy = async (seconds: number) => {
    const res = await t.request("POST", "/operator/test-clock", { body: { advanceBy: seconds } });
    expect(res.status, res.text).toBe(200);
  };
  const subscribe = async (
    opts: { priceId?: string; card?: string; quantity?: number; platform?: Platform } = {},
  ) => {
    const p = opts.platform ?? (await t.createPlatform());
    const res = await t.request("POST", "/subscriptions", {
      key: p.key,
      body: {
        userId: p.platformId,
        priceId: opts.priceId ?? "price_growth_monthly",
        paymentMethodId: opts.card ?? "pm_card_visa",
        ...(opts.quantity ? { quantity: opts.quantity } : {}),
      },
    });
    return { ...p, res };
  };
  /** A platform's invoices, oldest first. */
  const invoicesOf = async (platformId: string) => {
    const all: Invoice[] = [];
    let cursor: string | null = null;
    do {
      const res: TestResponse = await t.request(
        "GET",
        `/invoices?platformId=${platformId}&limit=100${cursor ? `&cursor=${cursor}` : ""}`,
      );
      expect(res.status).toBe(200);
      all.push(...res.body.data);
      cursor = res.body.nextCursor;
    } while (cursor);
    return all.reverse();
  };
  const subscription = async (id: string) => {
    const res = await t.request("GET", `/subscriptions/${id}`);
    expect(res.status, res.text).toBe(200);
    return res.body;
  };
  /** The card the processor charged for an invoice (its payment intent's payment method). */
  const chargedCard = async (invoiceId: string) => {
    const [row] = await t.database.db
      .select({ pi: invoices.paymentIntentId })
      .from(invoices)
      .where(eq(invoices.id, invoiceId));
    if (!row?.pi) return null;
    const [pi] = await t.database.db
      .select({ data: stripeEmuObjects.data })
      .from(stripeEmuObjects)
      .where(eq(stripeEmuObjects.id, row.pi));
    return (pi?.data.payment_method as string | undefined) ?? null;
  };
  /** The money invariants over the whole database (invoice totals included). */
  const invariants = (options: InvariantOptions = {}) => expectNoViolations(t.deps, options);
  return { t, clockTo, clockBy, subscribe, invoicesOf, subscription, chargedCard, invariants };
};

type Platform = Awaited<ReturnType<TestApp["createPlatform"]>>;
export type Scenario = Awaited<ReturnType<typeof scenario>>;

/**
 * Runs the statements of the migration whose file ends with `_<name>.sql` again, on a database
 * that already has it: its data fixes are written to be repeatable, so a test stores rows the way
 * the service stored them before and checks what the migration makes of them.
 */
export const rerunMigration = async (db: Db, name: string) => {
  const file = (await readdir(migrationsFolder)).find((f) => f.endsWith(`_${name}.sql`));
  expect(file, `a migration named ${name}`).toBeDefined();
  const text = await readFile(join(migrationsFolder, file as string), "utf8");
  for (const statement of text.split("--> statement-breakpoint")) {
    if (statement.trim()) await db.execute(sql.raw(statement));
  }
};
