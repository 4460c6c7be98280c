import { describe, expect, it } from "vitest";
import { consoleClient, hiddenField, signInToConsole } from "../../test/console-client.ts";
import { useTestApp } from "../../test/harness.ts";

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
