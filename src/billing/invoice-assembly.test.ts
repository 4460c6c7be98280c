import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  assembleInvoice,
  InvalidInvoiceLineError,
  type InvoiceLine,
  validateLine,
} from "./invoice-assembly.ts";

const subscription: InvoiceLine = {
  type: "subscription",
  description: "Growth (monthly)",
  quantity: 1,
  unitAmount: 9900,
  amount: 9900,
  periodStart: new Date("2025-04-01T00:00:00Z"),
  periodEnd: new Date("2025-05-01T00:00:00Z"),
};
const requestOverage: InvoiceLine = {
  type: "usage",
  description: "API requests over 1,000,000 (per 10,000)",
  quantity: 3,
  unitAmount: 50,
  amount: 150,
};

describe("assembleInvoice: examples", () => {
  it("totals a subscription and its usage with no credit", () => {
    expect(assembleInvoice({ lines: [subscription, requestOverage], creditBalance: 0 })).toEqual({
      lines: [subscription, requestOverage],
      subtotal: 10050,
      creditApplied: 0,
      total: 10050,
      amountDue: 10050,
    });
  });

  it("applies part of a large-enough balance, and all of a small one; the total stays the lines' sum", () => {
    const lines = [subscription, requestOverage];
    expect(assembleInvoice({ lines, creditBalance: 3000 })).toMatchObject({
      subtotal: 10050,
      creditApplied: 3000,
      total: 10050,
      amountDue: 7050,
    });
    // Paid from the balance entirely: nothing is due, but the invoice is still for 10,050.
    expect(assembleInvoice({ lines, creditBalance: 20000 })).toMatchObject({
      subtotal: 10050,
      creditApplied: 10050,
      total: 10050,
      amountDue: 0,
    });
  });

  it("credits a negative total to the balance and asks for nothing", () => {
    const downgrade: InvoiceLine[] = [
      {
        type: "proration",
        description: "Unused time on Scale",
        quantity: 1,
        unitAmount: -49900,
        amount: -24950,
      },
      {
        type: "proration",
        description: "Remaining time on Growth",
        quantity: 1,
        unitAmount: 9900,
        amount: 4950,
      },
    ];
    expect(assembleInvoice({ lines: downgrade, creditBalance: 5000 })).toMatchObject({
      subtotal: -20000,
      creditApplied: -20000,
      total: -20000,
      amountDue: 0,
    });
  });

  it("counts credit lines in the subtotal", () => {
    const goodwill: InvoiceLine = {
      type: "credit",
      description: "Goodwill credit",
      quantity: 1,
      unitAmount: -1000,
      amount: -1000,
    };
    expect(assembleInvoice({ lines: [subscription, goodwill], creditBalance: 0 })).toMatchObject({
      subtotal: 8900,
      total: 8900,
      amountDue: 8900,
    });
  });

  it("totals an empty invoice to zero", () => {
    expect(assembleInvoice({ lines: [], creditBalance: 700 })).toEqual({
      lines: [],
      subtotal: 0,
      creditApplied: 0,
      total: 0,
      amountDue: 0,
    });
  });

  it("refuses an invalid line or balance", () => {
    const wrong = { ...subscription, amount: 9800 };
    expect(() => assembleInvoice({ lines: [wrong], creditBalance: 0 })).toThrow(
      InvalidInvoiceLineError,
    );
    expect(() => assembleInvoice({ lines: [subscription], creditBalance: -1 })).toThrow(RangeError);
    expect(() => assembleInvoice({ lines: [subscription], creditBalance: 0.5 })).toThrow(
      RangeError,
    );
  });
});

describe("validateLine", () => {
  const rejects = (line: InvoiceLine, message: string) =>
    expect(() => validateLine(line)).toThrow(message);

  it("accepts consistent lines of every type", () => {
    expect(() => validateLine(subscription)).not.toThrow();
    expect(() => validateLine(requestOverage)).not.toThrow();
    expect(() => validateLine({ ...requestOverage, quantity: 0, amount: 0 })).not.toThrow();
    // A proration's amount is a rounded share of quantity × unit price, not the product.
    expect(() =>
      validateLine({
        type: "proration",
        description: "Unused time on Growth",
        quantity: 3,
        unitAmount: -9900,
        amount: -9900,
      }),
    ).not.toThrow();
    expect(() =>
      validateLine({
        type: "credit",
        description: "Credit",
        quantity: 1,
        unitAmount: 0,
        amount: 0,
      }),
    ).not.toThrow();
  });

  it("requires amount = quantity × unitAmount on subscription and usage lines", () => {
    rejects({ ...subscription, amount: 9899 }, "amount 9899 ≠ quantity 1 × unit amount 9900");
    rejects({ ...requestOverage, quantity: 4 }, "amount 150 ≠ quantity 4 × unit amount 50");
  });

  it("requires whole numbers and a non-negative quantity", () => {
    rejects({ ...subscription, amount: 99.5, unitAmount: 99.5 }, "unitAmount must be an integer");
    rejects({ ...requestOverage, quantity: 2.5, amount: 125 }, "quantity must be an integer");
    rejects({ ...requestOverage, quantity: -3, amount: -150 }, "quantity must not be negative");
  });

  it("refuses charges with negative prices and positive credits", () => {
    rejects({ ...requestOverage, unitAmount: -50, amount: -150 }, "negative unit amount");
    rejects(
      { type: "credit", description: "Credit", quantity: 1, unitAmount: 500, amount: 500 },
      "cannot be positive",
    );
  });

  it("refuses empty descriptions, unknown types and backwards periods", () => {
    rejects({ ...subscription, description: "  " }, "description is empty");
    rejects({ ...subscription, type: "refund" as InvoiceLine["type"] }, "unknown line type");
    rejects(
      {
        ...subscription,
        periodStart: new Date("2025-05-01T00:00:00Z"),
        periodEnd: new Date("2025-04-01T00:00:00Z"),
      },
      "ends before it starts",
    );
    rejects({ ...subscription, periodEnd: new Date(Number.NaN) }, "invalid period date");
  });
});

const line: fc.Arbitrary<InvoiceLine> = fc.oneof(
  fc
    .record({
      type: fc.constantFrom("subscription" as const, "usage" as const),
      quantity: fc.integer({ min: 0, max: 1000 }),
      unitAmount: fc.integer({ min: 0, max: 1_000_000 }),
    })
    .map((l) => ({ ...l, description: l.type, amount: l.quantity * l.unitAmount })),
  fc.integer({ min: -100_000_000, max: 100_000_000 }).map((amount) => ({
    type: "proration" as const,
    description: "proration",
    quantity: 1,
    unitAmount: amount,
    amount,
  })),
  fc.integer({ min: -100_000_000, max: 0 }).map((amount) => ({
    type: "credit" as const,
    description: "credit",
    quantity: 1,
    unitAmount: amount,
    amount: amount === 0 ? 0 : amount,
  })),
);
const invoices = fc.record({
  lines: fc.array(line, { maxLength: 20 }),
  creditBalance: fc.integer({ min: 0, max: 2_000_000_000 }),
});

describe("assembleInvoice: properties", () => {
  it("subtotal and total are the sum of the lines; amountDue is total minus credit applied", () => {
    fc.assert(
      fc.property(invoices, ({ lines, creditBalance }) => {
        const invoice = assembleInvoice({ lines, creditBalance });
        let sum = 0;
        for (const l of lines) sum += l.amount;
        expect(invoice.lines).toEqual(lines);
        expect(invoice.subtotal).toBe(sum);
        expect(invoice.total).toBe(sum);
        expect(invoice.amountDue).toBe(invoice.total - invoice.creditApplied);
        expect(invoice.amountDue).toBeGreaterThanOrEqual(0);
      }),
    );
  });

  it("credit never exceeds the balance nor the total; a negative total is credited back", () => {
    fc.assert(
      fc.property(invoices, ({ lines, creditBalance }) => {
        const invoice = assembleInvoice({ lines, creditBalance });
        expect(invoice.creditApplied).toBeLessThanOrEqual(creditBalance);
        if (invoice.total >= 0) {
          expect(invoice.creditApplied).toBeGreaterThanOrEqual(0);
          expect(invoice.creditApplied).toBeLessThanOrEqual(invoice.total);
          // Credit is used as far as it can be: either all of it, or nothing is left due.
          expect(invoice.creditApplied === creditBalance || invoice.amountDue === 0).toBe(true);
        } else {
          expect(invoice.creditApplied).toBe(invoice.total);
          expect(invoice.amountDue).toBe(0);
        }
      }),
    );
  });

  it("does not depend on the order of the lines", () => {
    fc.assert(
      fc.property(invoices, fc.integer(), ({ lines, creditBalance }, seed) => {
        const shuffled = [...lines].sort(
          (a, b) => ((a.amount ^ seed) % 7) - ((b.amount ^ seed) % 7),
        );
        const { lines: _a, ...totals } = assembleInvoice({ lines, creditBalance });
        const { lines: _b, ...shuffledTotals } = assembleInvoice({
          lines: shuffled,
          creditBalance,
        });
        expect(shuffledTotals).toEqual(totals);
      }),
    );
  });
});
