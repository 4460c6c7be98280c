import { mkdirSync, readFileSync } from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { serve } from "@hono/node-server";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium, watchedPage } from "../../test/browser.ts";
import { useTestApp } from "../../test/harness.ts";

/**
 * The console in a real browser (Debian's chromium, driven by playwright-core), as the operator
 * uses it: every test fails on a console error, a policy violation or a request leaving this
 * machine. With CONSOLE_SCREENSHOTS=dir, each page visited is saved there as a PNG.
 */
const screenshots = process.env.CONSOLE_SCREENSHOTS;

// Seeded history: subscriptions start in the spring, the clock is then moved on by months.
const t = await useTestApp({ start: "2026-03-10T09:00:00.000Z" });
let server: Server;
let base: string;
let browser: Browser;

const clockBy = async (seconds: number) => {
  const res = await t.request("POST", "/operator/test-clock", { body: { advanceBy: seconds } });
  expect(res.status, res.text).toBe(200);
};

const subscribe = async (priceId: string) => {
  const p = await t.createPlatform();
  const res = await t.request("POST", "/subscriptions", {
    key: p.key,
    body: { userId: p.platformId, priceId, paymentMethodId: "pm_card_visa" },
  });
  expect(res.status, res.text).toBe(201);
  return p;
};

const DAY = 86_400;
let growth: Awaited<ReturnType<typeof subscribe>>;

beforeAll(async () => {
  growth = await subscribe("price_growth_monthly");
  await subscribe("price_starter_monthly");
  await clockBy(DAY); // first snapshot: 99 + 29
  await clockBy(60 * DAY); // two renewals later
  await subscribe("price_scale_monthly");
  await clockBy(DAY); // 99 + 29 + 499
  await clockBy(3 * DAY); // a few days into the growth platform's third period
  // Usage on three days of the growth platform's current period.
  const now = Date.parse((await t.request("GET", "/operator/test-clock")).body.now);
  const events = [2, 1, 0].map((daysAgo, i) => ({
    id: `evt-${i}`,
    platformId: growth.platformId,
    meter: "api_requests",
    value: (i + 1) * 1000,
    timestamp: new Date(now - daysAgo * DAY * 1000 - 60_000).toISOString(),
  }));
  const ingested = await t.request("POST", "/usage/events", { key: growth.key, body: { events } });
  expect(ingested.status, ingested.text).toBeLessThan(300);

  server = await new Promise<Server>((resolve) => {
    const s = serve({ fetch: t.app.fetch, port: 0, hostname: "127.0.0.1" }, () =>
      resolve(s as Server),
    );
  });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await launchChromium();
  if (screenshots) mkdirSync(screenshots, { recursive: true });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => server?.close(resolve));
});

const watched = (viewport = { width: 1280, height: 900 }) =>
  watchedPage(browser, { viewport, acceptDownloads: true });

const shoot = async (page: Page, name: string) => {
  if (screenshots)
    await page.screenshot({ path: join(screenshots, `${name}.png`), fullPage: true });
};

/** Signs in with the keyboard alone: Tab to the key field, type, Enter. */
const signIn = async (page: Page) => {
  await page.goto(`${base}/console`);
  expect(new URL(page.url()).pathname).toBe("/console/sign-in");
  await shoot(page, "sign-in");
  for (let i = 0; i < 6; i++) {
    await page.keyboard.press("Tab");
    if (await page.evaluate(() => document.activeElement?.id === "key")) break;
  }
  await page.keyboard.type(t.operatorKey);
  await Promise.all([page.waitForURL(`${base}/console`), page.keyboard.press("Enter")]);
};

/** The points a drawn chart holds (uPlot's data), read back from the page. */
const chartPoints = (page: Page, name: string) =>
  page.evaluate((chart) => {
    const drawn = (window as unknown as { consoleCharts: Record<string, { data: unknown[][] }> })
      .consoleCharts[chart];
    return drawn ? (drawn.data as (number | null)[][]) : null;
  }, name);

/** The invoice and event pages of the growth platform, for the phone-width check. */
const phonePages = async () => {
  const invoices = await t.request("GET", `/invoices?platformId=${growth.platformId}`);
  const events = await t.request("GET", `/events?platformId=${growth.platformId}`);
  return [
    `/console/invoices/${invoices.body.data[0].id}`,
    `/console/events/${events.body.data[0].id}`,
  ];
};

describe("the console in a browser", () => {
  it("signs in with the keyboard; the key is in no storage the page can read", async () => {
    const { page, check } = await watched();
    await check(async () => {
      await signIn(page);
      expect(await page.locator("h1").textContent()).toBe("Overview");
      const stored = await page.evaluate(() => ({
        cookie: document.cookie,
        local: JSON.stringify(localStorage),
        session: JSON.stringify(sessionStorage),
      }));
      expect(stored).toEqual({ cookie: "", local: "{}", session: "{}" });
    });
  });

  it("draws the overview's MRR chart with the snapshots' points", async () => {
    const { page, check } = await watched();
    await check(async () => {
      await signIn(page);
      await page.locator("figure[data-chart='mrr'][data-drawn]").waitFor();
      await shoot(page, "overview");
      const points = await chartPoints(page, "mrr");
      expect(points).not.toBeNull();
      const [x, usd] = points as (number | null)[][];
      expect(x).toHaveLength(365);
      expect(usd).toHaveLength(365);
      // Before the first snapshot nothing, then 99 + 29, and since the scale subscription 627.
      expect(usd?.[0]).toBeNull();
      expect(usd).toContain(128);
      expect(usd?.at(-1)).toBe(627);
      const overview = await t.request("GET", "/operator/overview");
      expect(overview.body.mrr.usd).toBe(62700);
      expect(await page.getByTestId("mrr-now").textContent()).toBe("$627.00");
      expect(await page.getByTestId("count-active").textContent()).toBe("3");
      // The canvas was drawn at the figure's width.
      expect(await page.locator("figure[data-chart='mrr'] canvas").count()).toBe(1);
    });
  });

  it("draws a platform's daily usage chart with the daily usage's points", async () => {
    const { page, check } = await watched();
    await check(async () => {
      await signIn(page);
      await page.goto(`${base}/console/platforms/${growth.platformId}`);
      await page.locator("figure[data-chart='usage'][data-drawn]").waitFor();
      await shoot(page, "platform");
      const points = (await chartPoints(page, "usage")) as number[][];
      const meters = await page.evaluate(
        () =>
          JSON.parse(
            document.querySelector("figure[data-chart='usage'] script")?.textContent ?? "{}",
          ).series.map((s: { label: string }) => s.label) as string[],
      );
      const requests = points[meters.indexOf("api_requests") + 1] as number[];
      expect(requests.slice(-3)).toEqual([1000, 2000, 3000]);
      const from = new Date((points[0]?.[0] as number) * 1000).toISOString().slice(0, 10);
      const to = new Date((points[0]?.at(-1) as number) * 1000).toISOString().slice(0, 10);
      const daily = await t.request(
        "GET",
        `/usage/daily?platformId=${growth.platformId}&from=${from}&to=${to}`,
      );
      expect(requests).toEqual(
        daily.body.days.map((d: { meters: Record<string, number> }) => d.meters.api_requests),
      );
    });
  });

  it("applies a credit and shows the new balance", async () => {
    const { page, check } = await watched();
    await check(async () => {
      await signIn(page);
      await page.goto(`${base}/console/platforms/${growth.platformId}`);
      const before = await page.getByTestId("balance").textContent();
      await page.getByLabel(/^Amount/).fill("12.50");
      await page.getByLabel("Description").fill("Sorry for the outage");
      await Promise.all([
        page.waitForURL(/notice=credit-applied/),
        page.getByRole("button", { name: "Apply credit" }).click(),
      ]);
      expect(before).toContain("$0.00");
      expect(await page.getByTestId("balance").textContent()).toContain("$12.50");
      expect(await page.getByTestId("ledger").textContent()).toContain("Sorry for the outage");
    });
  });

  it("shows the proration preview, changes the tier, and lists the proration invoice", async () => {
    const { page, check } = await watched();
    await check(async () => {
      await signIn(page);
      await page.goto(`${base}/console/platforms/${growth.platformId}`);
      await page.getByLabel("Change tier to").selectOption("scale");
      await Promise.all([
        page.waitForURL(/change-tier\?tier=scale/),
        page.getByRole("button", { name: "Preview proration" }).click(),
      ]);
      await shoot(page, "change-tier-preview");
      const preview = await t.request(
        "GET",
        `/subscription/proration-preview?platformId=${growth.platformId}&tier=scale`,
      );
      expect(preview.status, preview.text).toBe(200);
      const net = (await page.getByTestId("net").textContent()) as string;
      expect(net).toBe(`$${(preview.body.net / 100).toFixed(2)}`);
      await Promise.all([
        page.waitForURL(/notice=tier-changed/),
        page.getByRole("button", { name: /Confirm the change to scale/ }).click(),
      ]);
      expect(await page.getByTestId("tier").textContent()).toBe("scale");
      const invoices = await t.request("GET", `/invoices?platformId=${growth.platformId}`);
      const proration = invoices.body.data.find((i: { lines: { type: string }[] }) =>
        i.lines.some((l) => l.type === "proration"),
      );
      expect(proration).toBeDefined();
      const row = page.locator(`tr[data-invoice='${proration.id}']`);
      expect(await row.textContent()).toContain("proration");
      expect(await row.textContent()).toContain(proration.number);
    });
  });

  it("exports the invoices of a date range as CSV, one row per invoice", async () => {
    const { page, check } = await watched();
    await check(async () => {
      await signIn(page);
      await page.goto(`${base}/console/invoices`);
      await shoot(page, "invoices");
      await page.getByLabel("Created from").fill("2026-03-01");
      await page.getByLabel("to", { exact: true }).fill("2026-12-31");
      const [download] = await Promise.all([
        page.waitForEvent("download"),
        page.getByRole("button", { name: "Export CSV" }).click(),
      ]);
      const csv = readFileSync((await download.path()) as string, "utf8");
      const [header, ...rows] = csv.trim().split("\r\n");
      expect(header?.split(",")).toContain("amount_paid_minor");
      const all: { id: string; total: number }[] = [];
      const list = await t.request("GET", "/operator/platforms?limit=100");
      for (const p of list.body.data) {
        const invoices = await t.request("GET", `/invoices?platformId=${p.platformId}&limit=100`);
        all.push(...invoices.body.data);
      }
      expect(rows).toHaveLength(all.length);
      for (const invoice of all) {
        const row = rows.find((r) => r.split(",")[1] === invoice.id);
        expect(row?.split(",")[10]).toBe(String(invoice.total));
      }
    });
  });

  it("voids an open invoice from its page and shows the new status", async () => {
    // A declined card leaves the first invoice open.
    const declined = await t.createPlatform();
    const sub = await t.request("POST", "/subscriptions", {
      key: declined.key,
      body: {
        userId: declined.platformId,
        priceId: "price_starter_monthly",
        paymentMethodId: "pm_card_chargeDeclined",
      },
    });
    expect(sub.status, sub.text).toBe(402);
    const invoices = await t.request("GET", `/invoices?platformId=${declined.platformId}`);
    const open = invoices.body.data[0] as { id: string; number: string; status: string };
    expect(open.status).toBe("open");
    const { page, check } = await watched();
    await check(async () => {
      await signIn(page);
      await page.goto(`${base}/console/platforms/${declined.platformId}`);
      const row = page.locator(`tr[data-invoice='${open.id}']`);
      expect(await row.getByRole("link", { name: /^Hosted page/ }).count()).toBe(1);
      expect(await row.getByRole("link", { name: /^PDF/ }).count()).toBe(1);
      await Promise.all([
        page.waitForURL(`${base}/console/invoices/${open.id}`),
        row.getByRole("link", { name: open.number, exact: true }).click(),
      ]);
      expect(await page.getByTestId("invoice-status").textContent()).toBe("open");
      await shoot(page, "invoice");
      page.once("dialog", (dialog) => dialog.accept());
      await Promise.all([
        page.waitForURL(/notice=voided/),
        page.getByRole("button", { name: "Void" }).click(),
      ]);
      expect(await page.getByTestId("invoice-status").textContent()).toBe("void");
      expect(await page.getByRole("button", { name: "Void" }).count()).toBe(0);
      expect((await t.request("GET", `/invoices/${open.id}`)).body.status).toBe("void");
    });
  });

  it("creates a webhook endpoint and shows its secret once", async () => {
    const { page, check } = await watched();
    await check(async () => {
      await signIn(page);
      await page.goto(`${base}/console/platforms/${growth.platformId}`);
      await page.getByLabel("URL").fill("http://127.0.0.1:9/hooks/billing");
      await page.getByLabel(/^Enabled events/).fill("invoice.paid, invoice.voided");
      await page.getByLabel(/^Endpoint note/).fill("Accounting");
      await page.getByRole("button", { name: "Add endpoint" }).click();
      const shown = page.getByTestId("new-webhook-secret");
      await shown.waitFor();
      const secret = (await shown.locator(".secret").textContent()) as string;
      expect(secret).toMatch(/^whsec_[A-Za-z0-9+/=]{40,}$/);
      await shoot(page, "webhook-created");
      const endpoints = await t.request("GET", "/webhook-endpoints", { key: growth.key });
      const endpoint = endpoints.body.data.find(
        (e: { url: string }) => e.url === "http://127.0.0.1:9/hooks/billing",
      );
      expect(endpoint).toMatchObject({ enabledEvents: ["invoice.paid", "invoice.voided"] });
      const card = page.locator(`section[data-endpoint='${endpoint.id}']`);
      expect(await card.getByTestId("endpoint-state").textContent()).toBe("enabled");
      // Shown once: the page visited again has the endpoint but not its secret.
      await page.goto(`${base}/console/platforms/${growth.platformId}`);
      expect(await page.locator(`section[data-endpoint='${endpoint.id}']`).count()).toBe(1);
      expect(await page.content()).not.toContain(secret);
    });
  });

  it("opens an event's detail with its payload", async () => {
    const { page, check } = await watched();
    await check(async () => {
      await signIn(page);
      await page.goto(`${base}/console/platforms/${growth.platformId}`);
      const first = page.getByTestId("events").locator("tbody tr").first();
      const id = (await first.getAttribute("data-event")) as string;
      await Promise.all([
        page.waitForURL(`${base}/console/events/${id}`),
        first.getByRole("link", { name: id }).click(),
      ]);
      await shoot(page, "event");
      const shown = JSON.parse((await page.getByTestId("event-json").textContent()) as string);
      const api = await t.request("GET", `/events/${id}`);
      expect(api.status, api.text).toBe(200);
      expect(shown).toEqual(api.body);
    });
  });

  it("signs out, and the console refuses the browser afterwards", async () => {
    const { page, check } = await watched();
    await check(async () => {
      await signIn(page);
      await page.goto(`${base}/console/platforms`);
      await shoot(page, "platforms");
      await Promise.all([
        page.waitForURL(`${base}/console/sign-in`),
        page.getByRole("button", { name: "Sign out" }).click(),
      ]);
      const again = await page.goto(`${base}/console/platforms/${growth.platformId}`);
      expect(new URL(page.url()).pathname).toBe("/console/sign-in");
      expect(again?.status()).toBe(200);
      expect(await page.locator("h1").textContent()).toBe("Operator console");
      const cookies = await page.context().cookies();
      expect(cookies.filter((c) => c.name === "nno_console_session")).toEqual([]);
    });
  });

  it("is readable at phone width (390 px): no sideways scrolling of the page", async () => {
    const { page, check } = await watched({ width: 390, height: 844 });
    await check(async () => {
      await signIn(page);
      for (const path of [
        "/console",
        `/console/platforms/${growth.platformId}`,
        "/console/invoices",
        ...(await phonePages()),
      ]) {
        await page.goto(`${base}${path}`);
        await page.waitForLoadState("networkidle");
        const wide = await page.evaluate(() =>
          [...document.querySelectorAll("body *")]
            .filter((e) => e.getBoundingClientRect().right > 391)
            .map((e) => `${e.tagName}.${e.className}`)
            .slice(0, 5),
        );
        const width = await page.evaluate(() => document.documentElement.scrollWidth);
        expect(width, `${path}: ${wide.join(" ")}`).toBeLessThanOrEqual(390);
      }
      await shoot(page, "invoices-phone");
      await page.goto(`${base}/console/platforms/${growth.platformId}`);
      await shoot(page, "platform-phone");
    });
  });
});
