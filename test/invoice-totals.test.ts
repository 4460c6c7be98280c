import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { invoices } from "../src/db/schema/index.ts";
import { rerunMigration, useScenarios } from "./scenario.ts";

/**
 * Invoice totals as Stripe reports them: `total` is what the lines add up to, the customer
 * balance applied is shown apart (`creditApplied`), and `amountDue = total − creditApplied` is
 * what is collected (`amountPaid` once paid). An invoice paid from the balance still totals its
 * lines.
 */
const scenario = useScenarios();

describe("invoice totals", () => {
  it("keep the lines' sum in total when the balance pays all or part of the invoice", async () => {
    const s = await scenario("2026-03-10T09:00:00.000Z");
    // Starter × 3: 8,700 a month.
    const { platformId, customerId, key, res } = await s.subscribe({
      priceId: "price_starter_monthly",
      quantity: 3,
    });
    expect(res.status, res.text).toBe(201);
    const credit = await s.t.request("POST", "/operator/credits", {
      body: { customerId, amount: 100, description: "goodwill" },
    });
    expect(credit.status, credit.text).toBe(200);

    await s.clockTo("2026-04-10T09:00:00.000Z");
    await s.clockTo("2026-05-10T09:00:00.000Z");
    const [first, fromBalance, partly] = await s.invoicesOf(platformId);
    expect(first).toMatchObject({
      status: "paid",
      subtotal: 8700,
      creditApplied: 0,
      total: 8700,
      amountDue: 8700,
      amountPaid: 8700,
    });
    // Fully paid from the 10,000 of credit: nothing was charged, but the invoice is for 8,700.
    expect(fromBalance).toMatchObject({
      status: "paid",
      subtotal: 8700,
      creditApplied: 8700,
      total: 8700,
      amountDue: 0,
      amountPaid: 0,
    });
    // The 1,300 left pays part of the next one; the card pays the rest.
    expect(partly).toMatchObject({
      status: "paid",
      subtotal: 8700,
      creditApplied: 1300,
      total: 8700,
      amountDue: 7400,
      amountPaid: 7400,
    });
    const one = await s.t.request("GET", `/invoices/${fromBalance?.id}`, { key });
    expect(one.body).toMatchObject({ total: 8700, creditApplied: 8700, amountDue: 0 });

    // The hosted portal lists each invoice at its total.
    const session = await s.t.request("POST", "/portal", {
      key,
      body: { returnUrl: "https://app.example.com" },
    });
    const page = await (await s.t.app.request(new URL(session.body.url).pathname)).text();
    const row = page.match(new RegExp(`data-invoice="${fromBalance?.id}"[\\s\\S]*?</tr>`))?.[0];
    expect(row).toContain("$87.00");
    await s.invariants();
  });

  it("are rewritten for stored invoices by the invoice_totals migration", async () => {
    const s = await scenario("2026-03-10T09:00:00.000Z");
    const { platformId, customerId } = await s.subscribe({ priceId: "price_starter_monthly" });
    const [stored] = await s.invoicesOf(platformId);
    const db = s.t.database.db;
    // Rows as the service stored them before: total = subtotal − creditApplied.
    const old = async (id: string, subtotal: number, creditApplied: number) => {
      await db.insert(invoices).values({
        id,
        kind: "manual",
        platformId,
        customerId,
        subscriptionId: null,
        status: "paid",
        currency: "usd",
        periodStart: new Date("2026-03-10T09:00:00.000Z"),
        periodEnd: new Date("2026-03-11T09:00:00.000Z"),
        subtotal,
        creditApplied,
        total: subtotal - creditApplied,
        amountDue: Math.max(subtotal - creditApplied, 0),
        amountPaid: Math.max(subtotal - creditApplied, 0),
        createdAt: new Date("2026-03-10T09:00:00.000Z"),
      });
    };
    await old("in_old_full", 8700, 8700);
    await old("in_old_part", 8700, 1300);

    await rerunMigration(db, "invoice_totals");
    const read = async (id: string) =>
      (await db.select().from(invoices).where(eq(invoices.id, id)))[0];
    expect(await read("in_old_full")).toMatchObject({ total: 8700, amountDue: 0 });
    expect(await read("in_old_part")).toMatchObject({ total: 8700, amountDue: 7400 });
    expect(await read(stored?.id ?? "")).toMatchObject({ total: 2900, amountDue: 2900 });
  });
});
