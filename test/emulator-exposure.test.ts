import { afterAll, describe, expect, it } from "vitest";
import { createTestApp } from "./harness.ts";

/**
 * The built-in emulator's API on the service's public port (issue 11): it accepts only the
 * service's own secret key (a test-mode key anyone could guess no longer opens it), and in
 * production it is not served at all unless STRIPE_EMULATOR_API says so. The portal pages stay
 * reachable by their session URLs.
 */
const dev = await createTestApp();
const production = await createTestApp({ env: { NODE_ENV: "production" } });
afterAll(async () => {
  await dev.close();
  await production.close();
});

const stripeGet = (app: typeof dev, path: string, key: string) =>
  app.app.request(`/emulator/stripe/v1/${path}`, { headers: { authorization: `Bearer ${key}` } });

describe("the in-process emulator's API", () => {
  it("opens only to the service's own key", async () => {
    const p = await dev.createPlatform();
    for (const key of ["sk_test_anything", "sk_test_nno_emulator", `${dev.emulator.apiKey}x`]) {
      const res = await stripeGet(dev, "customers", key);
      expect(res.status, key).toBe(401);
      expect((await res.json()).error.type).toBe("invalid_request_error");
    }
    const detach = await dev.app.request(`/emulator/stripe/v1/customers/${p.customerId}`, {
      method: "DELETE",
      headers: { authorization: "Bearer sk_test_anything" },
    });
    expect(detach.status).toBe(401);
    const own = await stripeGet(dev, `customers/${p.customerId}`, dev.emulator.apiKey ?? "");
    expect(own.status).toBe(200);
    expect((await own.json()).id).toBe(p.customerId);
    expect(dev.emulator.apiKey).toMatch(/^sk_test_[A-Za-z0-9]{40}$/);
    expect(dev.emulator.apiKey).not.toBe(production.emulator.apiKey);
  });

  it("is not served in production, while the portal pages are", async () => {
    const p = await production.createPlatform();
    const res = await stripeGet(production, "customers", production.emulator.apiKey ?? "");
    expect(res.status).toBe(404);
    const session = await production.request("POST", "/portal", {
      key: p.key,
      body: { returnUrl: "https://app.example.com/billing" },
    });
    expect(session.status, session.text).toBe(200);
    const page = await production.app.request(new URL(session.body.url).pathname);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("<html");
  });
});
