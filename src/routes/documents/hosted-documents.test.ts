import { describe, expect, it } from "vitest";
import { useTestApp } from "../../../test/harness.ts";
import { platformWithFirstInvoice } from "../../../test/invoice-fixtures.ts";
import { pdfPages } from "../../../test/pdf-text.ts";

const t = await useTestApp({
  env: {
    BILLING_SELLER_NAME: "NNO Billing Ltd",
    BILLING_SELLER_ADDRESS: "1 Seller Street|10115 Berlin|DE",
    BILLING_SELLER_EMAIL: "billing@nno.example",
    BILLING_SELLER_TAX_ID: "DE123456789",
  },
});

/** A platform with an address and tax id, and its first (paid) invoice. */
const paidInvoice = async () => {
  const p = await t.createPlatform();
  const patched = await t.request("PATCH", `/customers/${p.customerId}`, {
    key: p.key,
    body: {
      name: "Acme <script>alert(1)</script> & Co",
      address: {
        line1: "5 Buyer Road",
        city: "San Francisco",
        postalCode: "94107",
        state: "CA",
        country: "us",
      },
      taxId: "US-99-1234567",
    },
  });
  expect(patched.status, patched.text).toBe(200);
  expect(patched.body.address.country).toBe("US");
  const { invoice, sub } = await platformWithFirstInvoice(t, "pm_card_visa", p);
  expect(sub.status, sub.text).toBe(201);
  return { ...p, invoice };
};

const pathOf = (url: string) => new URL(url).pathname;

describe("customer address and tax id", () => {
  it("are validated, settable on create and PATCH, and clearable", async () => {
    const created = await t.request("POST", "/customers", {
      body: {
        email: "direct@example.com",
        address: { line1: "1 Rue", city: "Paris", postalCode: "75001", country: "FR" },
        taxId: "FR12345678901",
      },
    });
    expect(created.status, created.text).toBe(201);
    expect(created.body).toMatchObject({ taxId: "FR12345678901", address: { country: "FR" } });
    for (const body of [
      { address: { line1: "x", city: "y", postalCode: "1", country: "XX" } },
      { address: { line1: "x", city: "y", country: "US" } },
      { taxId: "<bad>" },
      { address: { line1: "x", city: "y", postalCode: "1", country: "US", extra: 1 } },
    ]) {
      const res = await t.request("PATCH", `/customers/${created.body.id}`, { body });
      expect(res.status, JSON.stringify(body)).toBe(400);
    }
    const cleared = await t.request("PATCH", `/customers/${created.body.id}`, {
      body: { address: null, taxId: null },
    });
    expect(cleared.status).toBe(200);
    expect(cleared.body).toMatchObject({ address: null, taxId: null, email: "direct@example.com" });
  });
});

describe("invoice documents", () => {
  it("GET /invoices/{id}/pdf: the number, seller, buyer, every line and the totals", async () => {
    const { invoice, key } = await paidInvoice();
    const res = await t.app.request(`/invoices/${invoice.id}/pdf`, {
      headers: { authorization: `Bearer ${key}` },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/pdf");
    const bytes = new Uint8Array(await res.arrayBuffer());
    const [text] = await pdfPages(bytes);
    for (const s of [
      `Invoice ${invoice.number}`,
      "NNO Billing Ltd",
      "DE123456789",
      "Acme <script>alert(1)</script> & Co",
      "94107 San Francisco CA",
      "Tax ID: US-99-1234567",
      "$99.00",
      "Page 1 of 1",
    ]) {
      expect(text).toContain(s);
    }
    for (const line of invoice.lines) expect(text).toContain(line.description);
    // Same invoice, same bytes; another platform's key sees nothing.
    const again = await t.app.request(`/api/billing/invoices/${invoice.id}/pdf`, {
      headers: { authorization: `Bearer ${key}` },
    });
    expect(Buffer.from(await again.arrayBuffer()).equals(Buffer.from(bytes))).toBe(true);
    const other = await t.createPlatform();
    const hidden = await t.request("GET", `/invoices/${invoice.id}/pdf`, { key: other.key });
    expect(hidden.status).toBe(404);
    const anonymous = await t.request("GET", `/invoices/${invoice.id}/pdf`, { key: null });
    expect(anonymous.status).toBe(401);
  });

  it("the hosted page works without a key, escapes, has a strict CSP; revoked → 404", async () => {
    const { invoice } = await paidInvoice();
    expect(invoice.hostedInvoiceUrl).toMatch(/\/documents\/invoices\/[0-9A-Za-z]{40}$/);
    const path = pathOf(invoice.hostedInvoiceUrl);
    const page = await t.request("GET", path, { key: null });
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/text\/html/);
    const csp = page.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("default-src 'none'");
    expect(csp).toMatch(/style-src 'sha256-/);
    expect(csp).not.toContain("unsafe-inline");
    expect(page.text).toContain(invoice.number);
    expect(page.text).toContain("Acme &lt;script&gt;alert(1)&lt;/script&gt; &amp; Co");
    expect(page.text).not.toContain("<script>");
    expect(page.text).toContain("$99.00");
    expect(page.text).toContain("Download PDF");
    const pdf = await t.app.request(`${path}/pdf`);
    expect(pdf.headers.get("content-type")).toBe("application/pdf");
    const [text] = await pdfPages(new Uint8Array(await pdf.arrayBuffer()));
    expect(text).toContain(invoice.number);
    // Under /api/billing too.
    expect((await t.request("GET", `/api/billing${path}`, { key: null })).status).toBe(200);

    const rotated = await t.request("POST", `/operator/invoices/${invoice.id}/hosted-url/rotate`);
    expect(rotated.status).toBe(200);
    expect(rotated.body.hostedInvoiceUrl).not.toBe(invoice.hostedInvoiceUrl);
    expect((await t.request("GET", path, { key: null })).status).toBe(404);
    expect((await t.request("GET", `${path}/pdf`, { key: null })).status).toBe(404);
    expect((await t.request("GET", "/documents/invoices/short", { key: null })).status).toBe(400);
  });

  it("an open invoice links to the portal; credit notes show on the invoice and have their own page", async () => {
    const { invoice, ...p } = await platformWithFirstInvoice(t, "pm_card_chargeDeclined");
    expect(invoice.status).toBe("open");
    const path = pathOf(invoice.hostedInvoiceUrl);
    const page = await t.request("GET", path, { key: null });
    expect(page.text).toContain("Update payment method");
    const portal = await t.app.request(`${path}/portal`);
    expect(portal.status).toBe(303);
    expect(portal.headers.get("location")).toMatch(/\/emulator\/stripe\/portal\//);

    const note = await t.request("POST", "/operator/credit-notes", {
      body: { invoiceId: invoice.id, amount: 1250, reason: "order_change", memo: "Goodwill" },
    });
    expect(note.status, note.text).toBe(201);
    const after = await t.request("GET", path, { key: null });
    expect(after.text).toContain(note.body.number);
    expect(after.text).toContain("-$12.50");
    expect(after.text).toContain("$86.50"); // 99.00 − 12.50 due
    const notePage = await t.request("GET", pathOf(note.body.hostedUrl), { key: null });
    expect(notePage.status).toBe(200);
    expect(notePage.text).toContain(note.body.number);
    expect(notePage.text).toContain(invoice.number);
    expect(notePage.text).toContain("Goodwill");
    const notePdf = await t.app.request(`/credit-notes/${note.body.id}/pdf`, {
      headers: { authorization: `Bearer ${p.key}` },
    });
    expect(notePdf.status).toBe(200);
    const [text] = await pdfPages(new Uint8Array(await notePdf.arrayBuffer()));
    expect(text).toContain(`Credit note ${note.body.number}`);
    expect(text).toContain("$12.50");
  });
});
