import { describe, expect, it } from "vitest";
import { consoleClient, hiddenField, signInToConsole } from "../../test/console-client.ts";
import { useTestApp } from "../../test/harness.ts";
import { platformWithFirstInvoice } from "../../test/invoice-fixtures.ts";
import { deliverDueWebhooks } from "../services/webhooks/deliver.ts";

const t = await useTestApp();

/** A platform with an active growth subscription paid by card. */
const subscribedPlatform = async () => {
  const p = await t.createPlatform();
  const res = await t.request("POST", "/subscriptions", {
    key: p.key,
    body: {
      userId: p.platformId,
      priceId: "price_growth_monthly",
      paymentMethodId: "pm_card_visa",
    },
  });
  expect(res.status, res.text).toBe(201);
  return p;
};

/** The customer's balance in cents, read through the API (a one-cent probe credit). */
const balanceOf = async (customerId: string) => {
  const res = await t.request("POST", "/operator/credits", {
    body: { customerId, amount: 0.01, currency: "usd", description: "probe" },
  });
  // The probe credit itself adds one cent: the balance before it is one less.
  expect(res.status, res.text).toBe(200);
  return (res.body.balance as number) - 1;
};

describe("sign-in and sessions", () => {
  it("refuses a wrong key (401, no cookie) and exchanges the operator key for a session cookie", async () => {
    const wrong = await signInToConsole(t, "nno_op_wrong");
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get("set-cookie")).toBeNull();
    expect(await wrong.text()).toContain("not the operator key");

    const right = await signInToConsole(t);
    expect(right.status).toBe(303);
    expect(right.headers.get("location")).toBe("/console");
    const cookie = right.headers.get("set-cookie") ?? "";
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Strict/i);
    expect(cookie).toMatch(/Secure/i); // NODE_ENV=test is not development
    expect(cookie).toMatch(/Path=\/console/);
    // The key itself is nowhere in what the browser keeps.
    expect(cookie).not.toContain(t.operatorKey);
  });

  it("sends a request without a session, or after sign-out, to the sign-in page", async () => {
    const anonymous = await t.app.request("/console");
    expect(anonymous.status).toBe(303);
    expect(anonymous.headers.get("location")).toBe("/console/sign-in");

    const c = await consoleClient(t);
    expect((await c.get("/console")).status).toBe(200);
    const out = await c.post("/console/sign-out", {});
    expect(out.status).toBe(303);
    const after = await c.get("/console");
    expect(after.status).toBe(303);
    expect(after.headers.get("location")).toBe("/console/sign-in");
  });

  it("expires a session after BILLING_CONSOLE_SESSION_TTL_SECONDS", async () => {
    const c = await consoleClient(t);
    t.clock.advance(t.config.consoleSessionTtlSeconds * 1000 - 1000);
    expect((await c.get("/console/platforms")).status).toBe(200);
    t.clock.advance(2000);
    expect((await c.get("/console/platforms")).status).toBe(303);
  });

  it("serves its pages under a policy that runs scripts and styles from this origin only", async () => {
    const c = await consoleClient(t);
    const page = await c.get("/console");
    const csp = page.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain("unsafe-inline");
    const uplot = await t.app.request("/console/assets/uplot.js");
    expect(uplot.status).toBe(200);
    expect(await uplot.text()).toContain("uPlot");
  });
});

describe("forms", () => {
  it("refuses a post without the CSRF token, or with another session's, and changes nothing", async () => {
    const p = await subscribedPlatform();
    const mine = await consoleClient(t);
    const other = await consoleClient(t);
    const before = await balanceOf(p.customerId);
    const form = { amount: "25", currency: "usd", description: "goodwill", _idempotency: "k1" };

    const { _csrf: _none, ...withoutToken } = { ...form, _csrf: "" };
    const missing = await t.app.request(`/console/platforms/${p.platformId}/credits`, {
      method: "POST",
      headers: { cookie: mine.cookie, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(withoutToken).toString(),
    });
    expect(missing.status).toBe(403);
    const foreign = await mine.post(`/console/platforms/${p.platformId}/credits`, {
      ...form,
      _csrf: other.csrfToken,
      _idempotency: "k2",
    });
    expect(foreign.status).toBe(403);
    expect(await balanceOf(p.customerId)).toBe(before + 1);

    const ok = await mine.post(`/console/platforms/${p.platformId}/credits`, {
      ...form,
      _idempotency: "k3",
    });
    expect(ok.status).toBe(303);
    expect(await balanceOf(p.customerId)).toBe(before + 2 + 2500);
  });

  it("applies a double-submitted form once, and sends both submissions to the same page", async () => {
    const p = await subscribedPlatform();
    const c = await consoleClient(t);
    const page = await (await c.get(`/console/platforms/${p.platformId}`)).text();
    const key = hiddenField(page, "_idempotency");
    const form = { amount: "10.50", currency: "usd", description: "double", _idempotency: key };
    const [first, second] = await Promise.all([
      c.post(`/console/platforms/${p.platformId}/credits`, form),
      c.post(`/console/platforms/${p.platformId}/credits`, form),
    ]);
    const statuses = [first.status, second.status].sort();
    // Either the second waited for the first's outcome (303 replay) or found it in flight (409).
    expect(statuses[0]).toBe(303);
    expect([303, 409]).toContain(statuses[1]);
    const third = await c.post(`/console/platforms/${p.platformId}/credits`, form);
    expect(third.status).toBe(303);
    expect(third.headers.get("location")).toBe(
      first.status === 303 ? first.headers.get("location") : second.headers.get("location"),
    );
    const ledger = await (await c.get(`/console/platforms/${p.platformId}`)).text();
    expect(ledger.match(/double/g)).toHaveLength(1);
    expect(await balanceOf(p.customerId)).toBe(1050);
  });

  it("shows the API's validation message next to the field, and changes nothing", async () => {
    const p = await subscribedPlatform();
    const c = await consoleClient(t);
    const res = await c.post(`/console/platforms/${p.platformId}/credits`, {
      amount: "12.345",
      currency: "usd",
      description: "too precise",
      _idempotency: "v1",
    });
    expect(res.status).toBe(400);
    const html = await res.text();
    expect(html).toMatch(/id="credit-amount-error"[^>]*>[^<]*decimal/);
    expect(html).toContain('aria-invalid="true"');
    expect(await balanceOf(p.customerId)).toBe(0);
    // The same key may be used again once fixed: the refused attempt kept nothing.
    const fixed = await c.post(`/console/platforms/${p.platformId}/credits`, {
      amount: "12.34",
      currency: "usd",
      description: "fixed",
      _idempotency: "v1",
    });
    expect(fixed.status).toBe(303);
  });

  it("creates an API key showing its secret once, and revokes it", async () => {
    const p = await t.createPlatform();
    const c = await consoleClient(t);
    const created = await c.post(`/console/platforms/${p.platformId}/api-keys`, {
      scope: "platform",
      _idempotency: "key1",
    });
    expect(created.status).toBe(201);
    const html = await created.text();
    const secret = html.match(/class="secret">(nno_sk_[A-Za-z0-9]+)</)?.[1] as string;
    expect(secret).toBeDefined();
    expect((await t.request("GET", "/plans", { key: secret })).status).toBe(200);
    // A replay of the same form shows the page without the secret.
    const replay = await c.post(`/console/platforms/${p.platformId}/api-keys`, {
      scope: "platform",
      _idempotency: "key1",
    });
    expect(replay.status).toBe(303);
    const page = await (await c.get(replay.headers.get("location") as string)).text();
    expect(page).not.toContain(secret);
    const keyId = html.match(/New API key <code>(key_[a-z0-9_]+)<\/code>/)?.[1] as string;
    const revoked = await c.post(`/console/platforms/${p.platformId}/api-keys/${keyId}/revoke`, {
      _idempotency: "rev1",
    });
    expect(revoked.status).toBe(303);
    expect((await t.request("GET", "/plans", { key: secret })).status).toBe(401);
  });
});

describe("pages", () => {
  it("lists and searches platforms with tier, status and MRR", async () => {
    const p = await subscribedPlatform();
    const c = await consoleClient(t);
    const found = await (await c.get(`/console/platforms?q=${p.platformId}`)).text();
    expect(found).toContain(p.platformId);
    expect(found).toContain("growth");
    expect(found).toContain("$99.00");
    const none = await (await c.get("/console/platforms?q=no-such-platform%25")).text();
    expect(none).toContain("No platform matches");
  });

  it("lists every platform's invoices, searchable by number, filtered by status and platform", async () => {
    const a = await subscribedPlatform();
    const b = await subscribedPlatform();
    const c = await consoleClient(t);
    const number = (await t.request("GET", `/invoices?platformId=${a.platformId}`)).body.data[0]
      .number as string;
    const byNumber = await (await c.get(`/console/invoices?number=${number}`)).text();
    expect(byNumber).toContain(a.platformId);
    expect(byNumber).not.toContain(b.platformId);
    const byPlatform = await (await c.get(`/console/invoices?platformId=${b.platformId}`)).text();
    expect(byPlatform).toContain(b.platformId);
    expect(byPlatform).not.toContain(`>${a.platformId}<`);
    const open = await (
      await c.get(`/console/invoices?status=open&platformId=${a.platformId}`)
    ).text();
    expect(open).toContain("No invoice matches");
    const bad = await c.get("/console/invoices?from=2026-13-45");
    expect(bad.status).toBe(400);
  });

  it("answers a form for an unknown platform with a 404 page, changing nothing", async () => {
    const c = await consoleClient(t);
    const res = await c.post("/console/platforms/nope/credits", {
      amount: "5",
      description: "x",
      _idempotency: "nope1",
    });
    expect(res.status).toBe(404);
  });

  it("answers an unknown platform with a 404 page", async () => {
    const c = await consoleClient(t);
    const res = await c.get("/console/platforms/nope");
    expect(res.status).toBe(404);
    expect(await res.text()).toContain("Not found");
  });
});

describe("the CSV export", () => {
  it("has one row per invoice of the range, amounts in minor and major units", async () => {
    const p = await subscribedPlatform();
    const c = await consoleClient(t);
    const today = t.clock.now().toISOString().slice(0, 10);
    const res = await c.get(`/console/invoices.csv?from=${today}&to=${today}&number=`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/csv");
    const lines = (await res.text()).trim().split("\r\n");
    expect(lines[0]).toMatch(/^number,invoice_id,platform_id,status/);
    const mine = lines.filter((l) => l.includes(p.platformId));
    expect(mine).toHaveLength(1);
    expect(mine[0]).toContain(",9900,9900,9900,99.00,99.00,99.00");
    const invoices = await t.request("GET", `/invoices?platformId=${p.platformId}`);
    expect(mine[0]).toContain(invoices.body.data[0].number);
  });

  it("refuses a missing date or a range over 366 days (400 page)", async () => {
    const c = await consoleClient(t);
    expect((await c.get("/console/invoices.csv?from=2026-01-01")).status).toBe(400);
    const long = await c.get("/console/invoices.csv?from=2024-01-01&to=2026-01-01");
    expect(long.status).toBe(400);
    expect(await long.text()).toContain("at most 366 days");
  });
});

/** An invoice's status and amounts, read through the API. */
const invoiceOf = async (invoiceId: string) => {
  const res = await t.request("GET", `/invoices/${invoiceId}`);
  expect(res.status, res.text).toBe(200);
  return res.body as { status: string; amountDue: number; amountCredited: number };
};

const creditNotesOf = async (platformId: string) => {
  const res = await t.request("GET", `/credit-notes?platformId=${platformId}`);
  expect(res.status, res.text).toBe(200);
  return res.body.data as Array<{ id: string; number: string; amount: number; hostedUrl: string }>;
};

describe("invoice documents and corrections", () => {
  it("links a finalized invoice's hosted page and PDF, and its credit notes, on both lists", async () => {
    const paid = await platformWithFirstInvoice(t);
    const url = paid.invoice.hostedInvoiceUrl as string;
    expect(url).toMatch(/\/documents\/invoices\//);
    const note = await t.request("POST", "/operator/credit-notes", {
      body: { invoiceId: paid.invoice.id, amount: 500, reason: "duplicate", creditAmount: 500 },
    });
    expect(note.status, note.text).toBe(201);
    const c = await consoleClient(t);
    for (const path of [
      `/console/platforms/${paid.platformId}`,
      `/console/invoices?platformId=${paid.platformId}`,
      `/console/invoices/${paid.invoice.id}`,
    ]) {
      const html = await (await c.get(path)).text();
      expect(html, path).toContain(`href="${url}"`);
      expect(html, path).toContain(`href="${url}/pdf"`);
      expect(html, path).toContain(`href="${note.body.hostedUrl}"`);
      expect(html, path).toContain(`${note.body.number}</a> $5.00`);
    }
    // The links work without a key: the token is the credential.
    const hosted = await t.app.request(new URL(url).pathname);
    expect(hosted.status).toBe(200);
    const pdf = await t.app.request(`${new URL(url).pathname}/pdf`);
    expect(pdf.headers.get("content-type")).toContain("application/pdf");
  });

  it("voids an open invoice once through the service; a double submit does it once", async () => {
    const open = await platformWithFirstInvoice(t, "pm_card_chargeDeclined");
    expect(open.invoice.status).toBe("open");
    const c = await consoleClient(t);
    const page = await (await c.get(`/console/invoices/${open.invoice.id}`)).text();
    expect(page).toContain(`action="/console/invoices/${open.invoice.id}/void"`);
    const key = hiddenField(page, "_idempotency");
    const path = `/console/invoices/${open.invoice.id}/void`;
    const [first, second] = await Promise.all([
      c.post(path, { _idempotency: key }),
      c.post(path, { _idempotency: key }),
    ]);
    const statuses = [first.status, second.status].sort();
    expect(statuses[0]).toBe(303);
    expect([303, 409]).toContain(statuses[1]);
    const replay = await c.post(path, { _idempotency: key });
    expect(replay.status).toBe(303);
    expect(replay.headers.get("location")).toBe(
      `/console/invoices/${open.invoice.id}?notice=voided`,
    );
    expect((await invoiceOf(open.invoice.id)).status).toBe("void");
    const events = await t.request(
      "GET",
      `/events?platformId=${open.platformId}&type=invoice.voided`,
    );
    expect(events.body.data).toHaveLength(1);
    // A new submission on a void invoice is the service's 409, shown on the page.
    const again = await c.post(path, { _idempotency: "void-again" });
    expect(again.status).toBe(409);
    expect(await again.text()).toContain("void");
  });

  it("refuses a correction without the CSRF token, or with another session's, changing nothing", async () => {
    const open = await platformWithFirstInvoice(t, "pm_card_chargeDeclined");
    const mine = await consoleClient(t);
    const other = await consoleClient(t);
    for (const action of ["void", "uncollectible"]) {
      const path = `/console/invoices/${open.invoice.id}/${action}`;
      const missing = await t.app.request(path, {
        method: "POST",
        headers: { cookie: mine.cookie, "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ _idempotency: `${action}-1` }).toString(),
      });
      expect(missing.status).toBe(403);
      const foreign = await mine.post(path, {
        _csrf: other.csrfToken,
        _idempotency: `${action}-2`,
      });
      expect(foreign.status).toBe(403);
    }
    const credit = await mine.post(`/console/invoices/${open.invoice.id}/credit-notes`, {
      _csrf: other.csrfToken,
      _idempotency: "cn-foreign",
      amount: "100",
      reason: "duplicate",
    });
    expect(credit.status).toBe(403);
    expect(await invoiceOf(open.invoice.id)).toMatchObject({ status: "open", amountCredited: 0 });

    const marked = await mine.post(`/console/invoices/${open.invoice.id}/uncollectible`, {
      _idempotency: "unc-ok",
    });
    expect(marked.status).toBe(303);
    expect((await invoiceOf(open.invoice.id)).status).toBe("uncollectible");
  });

  it("issues a credit note on a paid invoice once, and shows validation next to the field", async () => {
    const paid = await platformWithFirstInvoice(t);
    const c = await consoleClient(t);
    const path = `/console/invoices/${paid.invoice.id}/credit-notes`;
    const page = await (await c.get(`/console/invoices/${paid.invoice.id}`)).text();
    expect(page).toContain('id="credit-note-refundAmount"');
    expect(page).not.toContain(`action="/console/invoices/${paid.invoice.id}/void"`);

    const tooMuch = await c.post(path, {
      _idempotency: "cn1",
      amount: "99999",
      reason: "duplicate",
      memo: "",
    });
    expect(tooMuch.status).toBe(400);
    const html = await tooMuch.text();
    expect(html).toMatch(/id="credit-note-amount-error"[^>]*>[^<]*exceeds what is left/);
    expect(html).toContain('aria-invalid="true"');
    const badSplit = await c.post(path, {
      _idempotency: "cn1",
      amount: "1000",
      reason: "duplicate",
      refundAmount: "600",
      creditAmount: "600",
    });
    expect(badSplit.status).toBe(400);
    expect(await badSplit.text()).toMatch(
      /id="credit-note-refundAmount-error"[^>]*>[^<]*must equal/,
    );
    const badReason = await c.post(path, { _idempotency: "cn1", amount: "1000", reason: "whim" });
    expect(badReason.status).toBe(400);
    expect(await badReason.text()).toContain('id="credit-note-reason-error"');
    expect(await creditNotesOf(paid.platformId)).toHaveLength(0);

    const form = {
      _idempotency: "cn1",
      amount: "1000",
      reason: "order_change",
      refundAmount: "400",
      creditAmount: "600",
      memo: "partial",
    };
    const [first, second] = await Promise.all([c.post(path, form), c.post(path, form)]);
    expect([first.status, second.status].sort()[0]).toBe(303);
    expect((await c.post(path, form)).status).toBe(303);
    const notes = await creditNotesOf(paid.platformId);
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatchObject({ amount: 1000, refundAmount: 400, creditAmount: 600 });
    expect(await invoiceOf(paid.invoice.id)).toMatchObject({ amountCredited: 1000 });
    expect(await balanceOf(paid.customerId)).toBe(600);
  });

  it("answers an unknown invoice's page and forms with a 404", async () => {
    const c = await consoleClient(t);
    expect((await c.get("/console/invoices/in_missing")).status).toBe(404);
    const res = await c.post("/console/invoices/in_missing/void", { _idempotency: "x" });
    expect(res.status).toBe(404);
  });
});

describe("events and webhook endpoints", () => {
  it("lists a platform's events newest first, a page at a time, with an escaped detail view", async () => {
    const p = await platformWithFirstInvoice(t);
    const other = await subscribedPlatform();
    // A credit note with markup in its memo: the event's payload must be shown escaped.
    const note = await t.request("POST", "/operator/credit-notes", {
      body: {
        invoiceId: p.invoice.id,
        amount: 100,
        reason: "duplicate",
        creditAmount: 100,
        memo: "<script>alert(1)</script>",
      },
    });
    expect(note.status, note.text).toBe(201);
    const api = await t.request("GET", `/events?platformId=${p.platformId}&limit=100`);
    const ids = (api.body.data as { id: string }[]).map((e) => e.id);
    expect(ids.length).toBeGreaterThan(1);
    const c = await consoleClient(t);
    const html = await (await c.get(`/console/platforms/${p.platformId}`)).text();
    const shown = [...html.matchAll(/data-event="([^"]+)"/g)].map((m) => m[1]);
    expect(shown).toEqual(ids.slice(0, 20));
    const otherIds = (
      await t.request("GET", `/events?platformId=${other.platformId}&limit=100`)
    ).body.data.map((e: { id: string }) => e.id);
    for (const id of otherIds) expect(html).not.toContain(id);

    const withMarkup = (
      await Promise.all(ids.map(async (id) => (await t.request("GET", `/events/${id}`)).body))
    ).find((e) => JSON.stringify(e).includes("<script>"));
    expect(withMarkup).toBeDefined();
    const detail = await (await c.get(`/console/events/${withMarkup.id}`)).text();
    expect(detail).toContain(withMarkup.type);
    expect(detail).not.toContain("<script>alert(1)</script>");
    expect(detail).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(detail).toContain(`&quot;id&quot;: &quot;${withMarkup.id}&quot;`);
    expect((await c.get("/console/events/evt_missing")).status).toBe(404);
  });

  it("pages through events with the cursor", async () => {
    const p = await t.createPlatform();
    for (let i = 0; i < 22; i++) {
      const res = await t.request("POST", "/operator/credits", {
        body: { customerId: p.customerId, amount: 1, currency: "usd", description: `c${i}` },
      });
      expect(res.status, res.text).toBe(200);
    }
    const all = (await t.request("GET", `/events?platformId=${p.platformId}&limit=100`)).body
      .data as { id: string }[];
    expect(all.length).toBeGreaterThan(20);
    const c = await consoleClient(t);
    const first = await (await c.get(`/console/platforms/${p.platformId}`)).text();
    const next = first.match(/href="([^"]*eventsCursor=[^"#]*)#events"[^>]*>Older events/)?.[1];
    expect(next).toBeDefined();
    const second = await (await c.get((next as string).replace(/&amp;/g, "&"))).text();
    const shown = [...second.matchAll(/data-event="([^"]+)"/g)].map((m) => m[1]);
    expect(shown).toEqual(all.slice(20, 40).map((e) => e.id));
  });

  it("creates an endpoint showing its secret once; disables, enables, pings, rotates and deletes it", async () => {
    const p = await t.createPlatform();
    const other = await t.createPlatform();
    const c = await consoleClient(t);
    const base = `/console/platforms/${p.platformId}/webhooks`;
    const bad = await c.post(base, {
      _idempotency: "we1",
      url: "http://127.0.0.1:9/hook",
      enabledEvents: "invoice.paid, no.such",
    });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toMatch(/id="webhook-enabledEvents-error"[^>]*>[^<]*no\.such/);
    const form = {
      _idempotency: "we1",
      url: "http://127.0.0.1:9/hook",
      enabledEvents: "invoice.paid, invoice.voided",
      description: "books",
    };
    const created = await c.post(base, form);
    expect(created.status).toBe(201);
    const html = await created.text();
    const secret = html.match(/class="secret">(whsec_[A-Za-z0-9+/=]+)</)?.[1] as string;
    expect(secret).toBeDefined();
    const replay = await c.post(base, form);
    expect(replay.status).toBe(303);
    const page = await (await c.get(replay.headers.get("location") as string)).text();
    expect(page).not.toContain(secret);
    expect(page).toContain("http://127.0.0.1:9/hook");
    expect(page).toContain("invoice.paid, invoice.voided");

    const listed = await t.request("GET", "/webhook-endpoints", { key: p.key });
    expect(listed.status, listed.text).toBe(200);
    expect(listed.body.data).toHaveLength(1);
    const id = listed.body.data[0].id as string;
    expect(
      (await t.request("GET", "/webhook-endpoints", { key: other.key })).body.data,
    ).toHaveLength(0);
    // Another platform's page cannot act on it.
    const foreign = await c.post(`/console/platforms/${other.platformId}/webhooks/${id}/disable`, {
      _idempotency: "foreign",
    });
    expect(foreign.status).toBe(404);

    expect((await c.post(`${base}/${id}/disable`, { _idempotency: "d1" })).status).toBe(303);
    expect((await t.request("GET", `/webhook-endpoints/${id}`, { key: p.key })).body.disabled).toBe(
      true,
    );
    expect((await c.post(`${base}/${id}/enable`, { _idempotency: "e1" })).status).toBe(303);
    expect((await t.request("GET", `/webhook-endpoints/${id}`, { key: p.key })).body.disabled).toBe(
      false,
    );

    expect((await c.post(`${base}/${id}/ping`, { _idempotency: "p1" })).status).toBe(303);
    expect((await c.post(`${base}/${id}/ping`, { _idempotency: "p1" })).status).toBe(303);
    const pings = await t.request("GET", `/events?type=ping&platformId=${p.platformId}`);
    expect(pings.body.data).toHaveLength(1);

    const rotated = await c.post(`${base}/${id}/rotate`, { _idempotency: "r1" });
    expect(rotated.status).toBe(200);
    const newSecret = (await rotated.text()).match(/class="secret">(whsec_[A-Za-z0-9+/=]+)</)?.[1];
    expect(newSecret).toBeDefined();
    expect(newSecret).not.toBe(secret);

    expect((await c.post(`${base}/${id}/delete`, { _idempotency: "x1" })).status).toBe(303);
    expect((await t.request("GET", `/webhook-endpoints/${id}`, { key: p.key })).status).toBe(404);
  });

  it("shows an endpoint's delivery attempts with status code, duration and error", async () => {
    const p = await t.createPlatform();
    const c = await consoleClient(t);
    const created = await t.request("POST", "/webhook-endpoints", {
      key: p.key,
      body: { url: "http://127.0.0.1:9/hook", enabledEvents: ["*"] },
    });
    expect(created.status, created.text).toBe(201);
    await c.post(`/console/platforms/${p.platformId}/webhooks/${created.body.id}/ping`, {
      _idempotency: "ping",
    });
    await deliverDueWebhooks({ ctx: t.deps });
    const attempts = await t.request("GET", `/webhook-endpoints/${created.body.id}/deliveries`, {
      key: p.key,
    });
    expect(attempts.status, attempts.text).toBe(200);
    expect(attempts.body.data.length).toBeGreaterThan(0);
    const html = await (await c.get(`/console/platforms/${p.platformId}`)).text();
    expect(html).toContain('data-testid="deliveries"');
    expect(html).toContain(`${attempts.body.data[0].durationMs} ms`);
    expect(html).toContain(attempts.body.data[0].error);
  });
});
