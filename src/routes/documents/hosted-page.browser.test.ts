import { describe, expect, it } from "vitest";
import { settle, useBrowser } from "../../../test/browser.ts";
import { useTestApp } from "../../../test/harness.ts";
import { platformWithFirstInvoice } from "../../../test/invoice-fixtures.ts";

/**
 * The hosted invoice page in a real browser, under the Content-Security-Policy it is served with:
 * the same figures as the API, no console error, no policy violation, nothing fetched from
 * elsewhere, and a Download PDF link that answers a PDF.
 */
const t = await useTestApp({
  env: { BILLING_SELLER_NAME: "NNO Billing Ltd", BILLING_SELLER_ADDRESS: "1 Seller Street|Berlin" },
});
const { state, watchedPage } = useBrowser(t);

describe("the hosted invoice page in a browser", () => {
  it.each(["", "/api/billing"])(
    "%s: shows the invoice's number, lines and totals; Download PDF answers a PDF",
    async (prefix) => {
      const p = await t.createPlatform();
      await t.request("PATCH", `/customers/${p.customerId}`, {
        key: p.key,
        body: {
          name: "Acme Corp",
          address: { line1: "5 Buyer Road", city: "Paris", postalCode: "75001", country: "FR" },
        },
      });
      const { invoice } = await platformWithFirstInvoice(t, "pm_card_visa", p);
      const note = await t.request("POST", "/operator/credit-notes", {
        body: { invoiceId: invoice.id, amount: 1500, reason: "order_change", creditAmount: 1500 },
      });
      expect(note.status, note.text).toBe(201);
      const path = new URL(invoice.hostedInvoiceUrl).pathname;
      const { page, check } = await watchedPage();
      await check(async () => {
        const response = await page.goto(`${state.base}${prefix}${path}`);
        expect(response?.status()).toBe(200);
        expect(response?.headers()["content-security-policy"]).toContain("default-src 'none'");
        expect(await page.locator('[data-field="number"]').textContent()).toBe(invoice.number);
        expect(await page.locator('[data-field="status"]').textContent()).toBe("paid");
        const lines = page.locator("tr[data-line]");
        expect(await lines.count()).toBe(invoice.lines.length);
        expect(await lines.first().textContent()).toContain(invoice.lines[0].description);
        expect(await lines.first().locator('[data-field="amount"]').textContent()).toBe("$99.00");
        expect(await page.locator('[data-total="Total"]').textContent()).toContain("$99.00");
        expect(await page.locator('[data-total="Amount paid"]').textContent()).toContain("$99.00");
        expect(await page.locator('[data-total="Credit notes"]').textContent()).toContain(
          "-$15.00",
        );
        expect(await page.locator(`[data-credit-note="${note.body.number}"]`).count()).toBe(1);
        expect(await page.locator('[data-party="Bill to"]').textContent()).toContain("Acme Corp");
        // The stylesheet applied (allowed by its hash): the page is not unstyled.
        const background = await page.evaluate(
          () => getComputedStyle(document.body).backgroundColor,
        );
        expect(background).toBe("rgb(244, 244, 245)");
        const href = await page.locator("a", { hasText: "Download PDF" }).getAttribute("href");
        const pdf = await page.request.get(new URL(href ?? "", page.url()).toString());
        expect(pdf.status()).toBe(200);
        expect(pdf.headers()["content-type"]).toBe("application/pdf");
        expect((await pdf.body()).subarray(0, 5).toString()).toBe("%PDF-");
        await settle(page);
      });
    },
    60_000,
  );
});
