import { describe, expect, it } from "vitest";
import { settle, useBrowser } from "../../../test/browser.ts";
import { useTestApp } from "../../../test/harness.ts";

/**
 * The HTML pages in a real browser (Debian's chromium, driven by playwright-core), under the
 * Content-Security-Policy they are served with: the docs page must still render Swagger UI and
 * load the API's operations, the portal page its styles, with no console error, no policy
 * violation, and no request leaving this machine (DESIGN §4: pages work offline).
 */
const t = await useTestApp();
const { state, watchedPage } = useBrowser(t);

describe("the docs page in a browser", () => {
  it.each(["/docs", "/api/billing/docs"])(
    "%s renders the API reference with no console error, no CSP violation, nothing fetched from elsewhere",
    async (path) => {
      const { page, check } = await watchedPage();
      await check(async () => {
        const response = await page.goto(`${state.base}${path}`);
        expect(response?.status()).toBe(200);
        expect(response?.headers()["content-security-policy"]).toContain("script-src 'self'");
        await page.locator(".swagger-ui .info .title").waitFor({ timeout: 10_000 });
        expect(await page.locator(".swagger-ui .info .title").textContent()).toContain(
          "NNO Billing Service API",
        );
        // The operations come from openapi.json, fetched by the page's own script.
        await page.locator(".opblock").first().waitFor();
        expect(await page.locator(".opblock").count()).toBeGreaterThan(20);
        // Opening an operation renders its details (Swagger UI's own dynamic styling included).
        await page.locator(".opblock-summary").first().click();
        await page.locator(".opblock-body").first().waitFor();
        await settle(page);
      });
    },
    60_000,
  );
});

describe("the docs page, used", () => {
  it.each([
    ["/docs", "/plans"],
    ["/api/billing/docs", "/api/billing/plans"],
  ])(
    "%s: a deep link opens its operation; authorised with a key, Try it out → Execute answers 200",
    async (path, operationPath) => {
      const platform = await t.createPlatform();
      const { page, check } = await watchedPage();
      await check(async () => {
        // A deep link (tag / operationId) opens that operation, and only it.
        await page.goto(`${state.base}${path}#/Plans/listPlans`);
        const operation = page.locator("#operations-Plans-listPlans");
        await operation.locator(".opblock-body").waitFor({ timeout: 10_000 });
        expect(await page.locator(".opblock.is-open").count()).toBe(1);

        // Authorise with the platform's key.
        await page.locator(".auth-wrapper .btn.authorize").click();
        await page.locator("#auth-bearer-value").fill(platform.key);
        await page.locator(".auth-btn-wrapper .btn.modal-btn.authorize").click();
        await page.locator(".auth-btn-wrapper .btn-done").click();

        // "Try it out" is on as the page opens (tryItOutEnabled); run the call.
        expect(await operation.locator(".try-out__btn").textContent()).toBe("Cancel");
        const [request] = await Promise.all([
          page.waitForRequest((r) => new URL(r.url()).pathname === operationPath),
          operation.locator(".btn.execute").click(),
        ]);
        expect(request.headers().authorization).toBe(`Bearer ${platform.key}`);
        const status = operation
          .locator(".live-responses-table tbody .response-col_status")
          .first();
        await status.waitFor({ timeout: 10_000 });
        expect((await status.textContent())?.trim()).toBe("200");
        expect(
          await operation.locator(".live-responses-table .microlight").first().textContent(),
        ).toContain('"tier"');
        await settle(page);
      });
    },
    60_000,
  );
});

describe("deep links", () => {
  it.each([
    ["Payment%20methods/listPaymentMethods", "operations-Payment_methods-listPaymentMethods"],
    [
      "Platform%20subscription/changeSubscriptionTier",
      "operations-Platform_subscription-changeSubscriptionTier",
    ],
  ])(
    "/docs#/%s opens that operation with no console error",
    async (link, elementId) => {
      const { page, check } = await watchedPage();
      await check(async () => {
        await page.goto(`${state.base}/docs#/${link}`);
        await page.locator(`#${elementId} .opblock-body`).waitFor({ timeout: 10_000 });
        expect(await page.locator(".opblock.is-open").count()).toBe(1);
        await settle(page);
      });
    },
    60_000,
  );
});

describe("around the docs page", () => {
  it.each([
    ["/", "/docs"],
    ["/api/billing", "/api/billing/docs"],
  ])("%s redirects to %s", async (path, target) => {
    const res = await t.app.request(path);
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe(target);
  });

  it.each(["/favicon.ico", "/docs/assets/favicon-32x32.png", "/api/billing/favicon.ico"])(
    "%s is a PNG served from this service",
    async (path) => {
      const res = await t.app.request(path);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe("image/png");
      const bytes = new Uint8Array(await res.arrayBuffer());
      expect([...bytes.slice(0, 4)]).toEqual([0x89, 0x50, 0x4e, 0x47]);
    },
  );
});

describe("the billing portal page in a browser", () => {
  it("is styled, and its form works, with no console error or CSP violation", async () => {
    const platform = await t.createPlatform();
    const session = await t.request("POST", "/portal", {
      key: platform.key,
      body: { returnUrl: "https://app.example.com/billing" },
    });
    expect(session.status).toBe(200);
    const path = new URL(session.body.url).pathname;
    const { page, check } = await watchedPage();
    await check(async () => {
      expect((await page.goto(`${state.base}${path}`))?.status()).toBe(200);
      // The page's inline stylesheet applied (body { max-width: 48rem }).
      expect(await page.evaluate(() => getComputedStyle(document.body).maxWidth)).toBe("768px");
      // Adding a card posts the form to the page's own path and comes back to it.
      await page.locator("select#token").selectOption("pm_card_visa");
      await Promise.all([
        page.waitForURL(/notice=added/),
        page.locator('form[action$="/payment-methods"] button[type="submit"]').click(),
      ]);
      expect(await page.locator("[data-payment-method]").count()).toBe(1);
      await settle(page);
    });
  }, 60_000);
});
