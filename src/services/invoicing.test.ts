import { and, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { useTestApp } from "../../test/harness.ts";
import { balanceEntries, invoiceLines, invoices } from "../db/schema/index.ts";
import { issueInvoices, type NewInvoice } from "./invoicing.ts";

const t = await useTestApp();

const period = { start: new Date("2026-02-01T00:00:00Z"), end: new Date("2026-03-01T00:00:00Z") };

const invoiceFor = (customerId: string, amount: number, subscriptionId: string): NewInvoice => ({
  kind: "renewal",
  platformId: null,
  customerId,
  subscriptionId,
  currency: "usd",
  periodStart: period.start,
  periodEnd: period.end,
  lines: [{ type: "subscription", description: "Plan", quantity: 1, unitAmount: amount, amount }],
});

const numberOf = (n: string | null | undefined) => Number(n?.slice(4));

describe("issuing a batch of invoices", () => {
  it("applies one customer's credit in order, never beyond the balance, and numbers without gaps", async () => {
    const a = await t.createPlatform();
    const b = await t.createPlatform();
    const credit = await t.request("POST", "/operator/credits", {
      body: { customerId: a.customerId, amount: 1.5, description: "goodwill" },
    });
    expect(credit.body.balance).toBe(150);

    const db = t.deps.db;
    const now = t.clock.now();
    const issued = await db.transaction((tx) =>
      issueInvoices({
        tx,
        input: {
          now,
          baseUrl: t.config.publicBaseUrl,
          invoices: [
            invoiceFor(a.customerId, 100, "sub_a1"),
            invoiceFor(b.customerId, 70, "sub_b1"),
            invoiceFor(a.customerId, 100, "sub_a2"),
            invoiceFor(a.customerId, 100, "sub_a3"),
          ],
        },
      }),
    );
    expect(issued.map((i) => [i?.creditApplied, i?.amountDue, i?.status])).toEqual([
      [100, 0, "paid"],
      [0, 70, "open"],
      [50, 50, "open"],
      [0, 100, "open"],
    ]);
    const numbers = issued.map((i) => numberOf(i?.number));
    expect(numbers.slice(1)).toEqual(numbers.slice(0, -1).map((n) => n + 1));
    // Open invoices wait for the collector; the paid one does not.
    expect(issued.map((i) => i?.nextPaymentAttempt?.getTime() ?? null)).toEqual([
      null,
      now.getTime(),
      now.getTime(),
      now.getTime(),
    ]);
    for (const invoice of issued) {
      const lines = await db
        .select()
        .from(invoiceLines)
        .where(eq(invoiceLines.invoiceId, invoice?.id ?? ""));
      expect(lines.reduce((sum, l) => sum + l.amount, 0)).toBe(invoice?.subtotal);
    }
    const after = await t.request("POST", "/operator/credits", {
      body: { customerId: a.customerId, amount: 0.01, description: "probe" },
    });
    expect(after.body.balance).toBe(1);
  });

  it("skips a period already invoiced: no second invoice, credit entry or number", async () => {
    const a = await t.createPlatform();
    await t.request("POST", "/operator/credits", {
      body: { customerId: a.customerId, amount: 0.4, description: "goodwill" },
    });
    const db = t.deps.db;
    const now = t.clock.now();
    const [first] = await db.transaction((tx) =>
      issueInvoices({
        tx,
        input: {
          now,
          baseUrl: t.config.publicBaseUrl,
          invoices: [invoiceFor(a.customerId, 100, "sub_dup")],
        },
      }),
    );
    expect(first).toMatchObject({ creditApplied: 40, amountDue: 60 });

    const again = await db.transaction((tx) =>
      issueInvoices({
        tx,
        input: {
          now,
          baseUrl: t.config.publicBaseUrl,
          invoices: [
            invoiceFor(a.customerId, 100, "sub_dup"),
            invoiceFor(a.customerId, 25, "sub_other"),
          ],
        },
      }),
    );
    expect(again[0]).toBeUndefined();
    expect(again[1]).toMatchObject({ creditApplied: 0, amountDue: 25, status: "open" });
    expect(numberOf(again[1]?.number)).toBe(numberOf(first?.number) + 1);
    const stored = await db
      .select()
      .from(invoices)
      .where(and(eq(invoices.subscriptionId, "sub_dup"), eq(invoices.kind, "renewal")));
    expect(stored).toHaveLength(1);
    const applications = await db
      .select()
      .from(balanceEntries)
      .where(
        and(
          eq(balanceEntries.customerId, a.customerId),
          eq(balanceEntries.kind, "invoice_application"),
        ),
      );
    expect(applications.map((e) => e.amount)).toEqual([-40]);
  });
});
