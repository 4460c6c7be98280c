import { and, desc, eq, gte, ilike, lt, type SQL, sql } from "drizzle-orm";
import { minorToDecimalString } from "../../billing/money.ts";
import { type InvoiceStatus, invoiceStatuses, invoices } from "../../db/schema/index.ts";
import { invalid } from "../../errors.ts";
import type { ServiceContext } from "../context.ts";
import { hostedDocumentUrl } from "../invoicing.ts";
import { decodeCursor, olderThan, type Page, toPage } from "../pagination.ts";

/** The statuses an invoice can have, for filters. */
export { type InvoiceStatus, invoiceStatuses };

/** The longest range one CSV export covers, and the most rows it holds. */
export const maxExportDays = 366;
export const maxExportRows = 100_000;

export interface InvoiceFilter {
  status?: InvoiceStatus | undefined;
  /** Created on or after this UTC day (`YYYY-MM-DD`). */
  from?: string | undefined;
  /** Created on or before this UTC day. */
  to?: string | undefined;
  /** A number or its part (`NNO-0000`), case-insensitive. */
  number?: string | undefined;
  /** One platform's invoices only. */
  platformId?: string | undefined;
}

export interface InvoiceListing {
  id: string;
  number: string | null;
  platformId: string | null;
  status: InvoiceStatus;
  kind: string;
  currency: string;
  total: number;
  amountDue: number;
  amountPaid: number;
  periodStart: string;
  periodEnd: string;
  createdAt: string;
  paidAt: string | null;
  /** The hosted page (its PDF at `…/pdf`); null for drafts or a revoked link. */
  hostedInvoiceUrl: string | null;
}

const dayStart = (day: string, field: "from" | "to") => {
  const at = new Date(`${day}T00:00:00.000Z`);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day) || Number.isNaN(at.getTime())) {
    throw invalid(`${field} must be a date (YYYY-MM-DD)`, [{ path: [field], message: "a date" }]);
  }
  return at;
};

const nextDay = (at: Date) => new Date(at.getTime() + 86_400_000);

const filterOf = (filter: InvoiceFilter): SQL | undefined => {
  const from = filter.from ? dayStart(filter.from, "from") : undefined;
  const to = filter.to ? dayStart(filter.to, "to") : undefined;
  if (from && to && from > to) {
    throw invalid("from must not be after to", [{ path: ["from"], message: "after to" }]);
  }
  const number = filter.number?.trim();
  return and(
    filter.status ? eq(invoices.status, filter.status) : undefined,
    filter.platformId ? eq(invoices.platformId, filter.platformId) : undefined,
    from ? gte(invoices.createdAt, from) : undefined,
    to ? lt(invoices.createdAt, nextDay(to)) : undefined,
    number ? ilike(invoices.number, `%${number.replace(/[\\%_]/g, (c) => `\\${c}`)}%`) : undefined,
  );
};

const present = (r: typeof invoices.$inferSelect, baseUrl: string): InvoiceListing => ({
  id: r.id,
  number: r.number,
  platformId: r.platformId,
  status: r.status,
  kind: r.kind,
  currency: r.currency,
  total: r.total,
  amountDue: r.amountDue,
  amountPaid: r.amountPaid,
  periodStart: r.periodStart.toISOString(),
  periodEnd: r.periodEnd.toISOString(),
  createdAt: r.createdAt.toISOString(),
  paidAt: r.paidAt?.toISOString() ?? null,
  hostedInvoiceUrl: hostedDocumentUrl(baseUrl, "invoices", r.hostedToken),
});

/** Invoices of every platform, newest first, filtered (the operator's view). */
export const searchInvoices = async ({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: InvoiceFilter & { limit: number; cursor?: string | undefined };
}): Promise<Page<InvoiceListing>> => {
  const after = decodeCursor(input.cursor);
  const rows = await ctx.db
    .select()
    .from(invoices)
    .where(and(filterOf(input), olderThan(after, invoices.createdAt, invoices.id)))
    .orderBy(desc(invoices.createdAt), desc(invoices.id))
    .limit(input.limit + 1);
  return toPage(
    rows,
    input.limit,
    (r) => ({ createdAt: r.createdAt, id: r.id }),
    (r) => present(r, ctx.config.publicBaseUrl),
  );
};

/** A CSV field (RFC 4180), with text that a spreadsheet would run as a formula made inert. */
const csvField = (value: string | number | null) => {
  if (value === null) return "";
  if (typeof value === "number") return String(value);
  const numeric = /^-?\d+(\.\d+)?$/.test(value);
  const inert = !numeric && /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(inert) ? `"${inert.replace(/"/g, '""')}"` : inert;
};

export const invoiceCsvHeader = [
  "number",
  "invoice_id",
  "platform_id",
  "status",
  "kind",
  "currency",
  "created_at",
  "paid_at",
  "period_start",
  "period_end",
  "total_minor",
  "amount_due_minor",
  "amount_paid_minor",
  "total",
  "amount_due",
  "amount_paid",
] as const;

/**
 * The CSV export for an accountant: one row per invoice created in `from`..`to` (UTC days,
 * both required, at most `maxExportDays` apart), oldest first, amounts in minor units and
 * as decimals in major units. Rows are read in pages of 1,000 so a big range never sits in memory at once.
 */
export async function* exportInvoicesCsv({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: InvoiceFilter & { from: string; to: string };
}): AsyncGenerator<string> {
  const from = dayStart(input.from, "from");
  const to = dayStart(input.to, "to");
  if ((to.getTime() - from.getTime()) / 86_400_000 + 1 > maxExportDays) {
    throw invalid(`an export covers at most ${maxExportDays} days`, [
      { path: ["to"], message: `at most ${maxExportDays} days after from` },
    ]);
  }
  const where = filterOf(input);
  yield `${invoiceCsvHeader.join(",")}\r\n`;
  let after: { createdAt: Date; id: string } | undefined;
  let written = 0;
  while (written < maxExportRows) {
    const rows = await ctx.db
      .select()
      .from(invoices)
      .where(
        and(
          where,
          after
            ? sql`(${invoices.createdAt}, ${invoices.id}) > (${after.createdAt}, ${after.id})`
            : undefined,
        ),
      )
      .orderBy(invoices.createdAt, invoices.id)
      .limit(Math.min(1000, maxExportRows - written));
    if (rows.length === 0) return;
    let chunk = "";
    for (const r of rows) {
      const fields = [
        r.number,
        r.id,
        r.platformId,
        r.status,
        r.kind,
        r.currency,
        r.createdAt.toISOString(),
        r.paidAt?.toISOString() ?? null,
        r.periodStart.toISOString(),
        r.periodEnd.toISOString(),
        r.total,
        r.amountDue,
        r.amountPaid,
        minorToDecimalString(r.total, r.currency),
        minorToDecimalString(r.amountDue, r.currency),
        minorToDecimalString(r.amountPaid, r.currency),
      ];
      chunk += `${fields.map(csvField).join(",")}\r\n`;
    }
    written += rows.length;
    yield chunk;
    const last = rows.at(-1) as (typeof rows)[number];
    after = { createdAt: last.createdAt, id: last.id };
  }
}
