/**
 * Invoice arithmetic (DESIGN §6): the lines, their sum, how much of the customer's credit
 * balance the invoice consumes, and what is left to collect. All amounts are minor units.
 */
import { assertMinorUnits } from "./money.ts";

export const invoiceLineTypes = ["subscription", "proration", "usage", "credit"] as const;
export type InvoiceLineType = (typeof invoiceLineTypes)[number];

/**
 * One invoice line. For `subscription` and `usage` lines `amount = quantity × unitAmount`. For
 * `proration` lines `unitAmount` is the full-period unit price (negative on the credit side) and
 * `amount` the prorated, rounded total, so the product does not hold. `credit` lines are ≤ 0.
 */
export interface InvoiceLine {
  readonly type: InvoiceLineType;
  readonly description: string;
  readonly quantity: number;
  readonly unitAmount: number;
  readonly amount: number;
  readonly periodStart?: Date;
  readonly periodEnd?: Date;
}

/**
 * An invoice's totals, as Stripe reports them: `subtotal` is the sum of the lines; `total` is the
 * subtotal after discounts and taxes (there are none yet, so it equals the subtotal); the customer
 * balance applied is shown apart, and `amountDue = total − creditApplied` is what is collected.
 * Stripe's invoice object: `total` "after discounts and taxes", `amount_due` "final amount due
 * at this time ... if there is account credit that can be applied to the invoice, the amount_due
 * may be 0" (https://docs.stripe.com/api/invoices/object).
 */
export interface AssembledInvoice {
  readonly lines: readonly InvoiceLine[];
  readonly subtotal: number;
  /**
   * Customer balance the invoice consumes (≥ 0), or, for an invoice whose total is negative,
   * that total (< 0): Stripe credits a negative invoice to the customer balance, so
   * `amountDue = total − creditApplied` is 0 and never negative.
   */
  readonly creditApplied: number;
  readonly total: number;
  readonly amountDue: number;
}

/** Thrown for a line whose numbers do not describe a valid charge or credit. */
export class InvalidInvoiceLineError extends Error {
  readonly line: InvoiceLine;

  constructor(line: InvoiceLine, problem: string) {
    super(`invalid ${line.type} line "${line.description}": ${problem}`);
    this.name = "InvalidInvoiceLineError";
    this.line = line;
  }
}

const isValidDate = (d: Date | undefined) => d === undefined || !Number.isNaN(d.getTime());

/** Throws `InvalidInvoiceLineError` unless the line's numbers are whole and consistent. */
export const validateLine = (line: InvoiceLine): void => {
  const fail = (problem: string) => {
    throw new InvalidInvoiceLineError(line, problem);
  };
  if (!invoiceLineTypes.includes(line.type)) fail("unknown line type");
  if (line.description.trim() === "") fail("the description is empty");
  for (const field of ["quantity", "unitAmount", "amount"] as const) {
    if (!Number.isSafeInteger(line[field])) fail(`${field} must be an integer, got ${line[field]}`);
  }
  if (line.quantity < 0) fail(`quantity must not be negative, got ${line.quantity}`);
  if (line.type === "subscription" || line.type === "usage") {
    if (line.unitAmount < 0) fail("a charge cannot have a negative unit amount");
    if (line.amount !== line.quantity * line.unitAmount) {
      fail(`amount ${line.amount} ≠ quantity ${line.quantity} × unit amount ${line.unitAmount}`);
    }
  }
  // A positive "credit" would be a charge under the wrong name.
  if (line.type === "credit" && line.amount > 0) fail("a credit line cannot be positive");
  if (!isValidDate(line.periodStart) || !isValidDate(line.periodEnd)) fail("invalid period date");
  if (line.periodStart && line.periodEnd && line.periodStart.getTime() > line.periodEnd.getTime()) {
    fail("the period ends before it starts");
  }
};

/**
 * Validates the lines and totals them, applying as much of `creditBalance` as the total can
 * absorb: credit never exceeds the balance, and never takes the amount due below zero. A negative
 * total goes to the customer balance instead (`creditApplied = total`, nothing due).
 */
export const assembleInvoice = (input: {
  lines: readonly InvoiceLine[];
  creditBalance: number;
}): AssembledInvoice => {
  assertMinorUnits(input.creditBalance, "creditBalance");
  if (input.creditBalance < 0) {
    throw new RangeError(`creditBalance must not be negative, got ${input.creditBalance}`);
  }
  for (const line of input.lines) validateLine(line);
  const subtotal = input.lines.reduce((sum, line) => sum + line.amount, 0);
  assertMinorUnits(subtotal, "subtotal");
  // No discounts or taxes exist yet: the total is the subtotal.
  const total = subtotal;
  const creditApplied = total < 0 ? total : Math.min(input.creditBalance, total);
  return {
    lines: [...input.lines],
    subtotal,
    creditApplied,
    total,
    amountDue: total - creditApplied,
  };
};
