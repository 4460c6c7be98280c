import { describe, expect, it } from "vitest";
import { pdfPages } from "../../test/pdf-text.ts";
import { formatMinor } from "../billing/money.ts";
import type { DocumentModel } from "./document-model.ts";
import { renderDocumentPdf } from "./invoice-pdf.ts";

const model = (lines: number, currency = "usd"): DocumentModel => ({
  kind: "invoice",
  title: "Invoice",
  number: "NNO-000042",
  status: "paid",
  currency,
  issuedOn: "2026-01-15",
  dueOn: "2026-01-15",
  seller: {
    name: "NNO Test Seller",
    lines: ["1 Seller Street", "10115 Berlin", "DE"],
    email: "billing@nno.example",
    taxId: "DE123456789",
    logo: undefined,
  },
  buyer: {
    name: "Acme Corp",
    lines: ["5 Buyer Road", "94107 San Francisco CA", "US"],
    email: "ap@acme.example",
    taxId: "US-99-1234567",
  },
  facts: [{ label: "Billing period", value: "2026-01-15 – 2026-02-15" }],
  lines: Array.from({ length: lines }, (_, k) => ({
    description: `Line item number ${k + 1}`,
    period: "2026-01-15 – 2026-02-15",
    quantity: k + 1,
    unitAmount: 1234,
    amount: 1234 * (k + 1),
  })),
  totals: [
    { label: "Subtotal", amount: 1234 * ((lines * (lines + 1)) / 2) },
    { label: "Total", amount: 1234 * ((lines * (lines + 1)) / 2), strong: true },
    { label: "Amount remaining", amount: 0, strong: true },
  ],
  creditNotes: [{ number: "NNO-CN-000007", issuedOn: "2026-01-20", amount: 500, url: null }],
  memo: null,
  documentDate: new Date("2026-01-15T12:00:00.000Z"),
});

describe("invoice PDF", () => {
  it("shows the number, parties, every line and the totals; same invoice, same bytes", async () => {
    const m = model(10);
    const bytes = await renderDocumentPdf(m);
    expect(bytes.subarray(0, 5).toString()).toBe("%PDF-");
    expect((await renderDocumentPdf(m)).equals(bytes)).toBe(true);
    const [page, ...rest] = await pdfPages(bytes);
    expect(rest).toEqual([]);
    for (const text of [
      "Invoice NNO-000042",
      "NNO Test Seller",
      "DE123456789",
      "Acme Corp",
      "Tax ID: US-99-1234567",
      "Billing period:",
      "NNO-CN-000007",
      "Page 1 of 1",
    ]) {
      expect(page).toContain(text);
    }
    for (const line of m.lines) {
      expect(page).toContain(line.description);
      expect(page).toContain(formatMinor(line.amount, "usd"));
    }
    expect(page).toContain("$678.70"); // 1234 × 55 cents
  });

  it("a 200-line invoice runs over pages, each with the header and 'Page i of n'", async () => {
    const m = model(200);
    const pages = await pdfPages(await renderDocumentPdf(m));
    expect(pages.length).toBeGreaterThan(5);
    pages.forEach((text, i) => {
      expect(text).toContain("Invoice NNO-000042");
      expect(text).toContain("NNO Test Seller");
      expect(text).toContain(`Page ${i + 1} of ${pages.length}`);
    });
    const all = pages.join("\n");
    for (const line of m.lines) expect(all).toContain(`${line.description} `);
    expect(pages.at(-1)).toContain(formatMinor(m.totals[1]?.amount ?? 0, "usd"));
  });

  it("formats money for the currency: no decimals for jpy, symbol for eur", async () => {
    const jpy = (await pdfPages(await renderDocumentPdf(model(1, "jpy"))))[0];
    expect(jpy).toContain("¥1,234");
    expect(jpy).not.toContain("¥1,234.00");
    const eur = (await pdfPages(await renderDocumentPdf(model(1, "eur"))))[0];
    expect(eur).toContain("€12.34");
  });
});
