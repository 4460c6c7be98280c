import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "./config.ts";

describe("configuration", () => {
  it("has embedded defaults", () => {
    const config = loadConfig({});
    expect(config.port).toBe(8080);
    expect(config.databaseUrl).toBeUndefined();
    expect(config.dataDir).toMatch(/\.data$/);
    expect(config.publicBaseUrl).toBe("http://localhost:8080");
    expect(config.testClock).toBe(false);
    expect(config.catalog.price("price_growth_monthly")).toMatchObject({
      tier: "growth",
      interval: "month",
      amount: 9900,
      currency: "usd",
    });
  });

  it.each([
    ["PORT", { PORT: "eighty" }],
    ["DATABASE_URL", { DATABASE_URL: "mysql://x" }],
    ["STRIPE_SECRET_KEY", { STRIPE_SECRET_KEY: "pk_test_123" }],
    ["BILLING_TEST_CLOCK", { BILLING_TEST_CLOCK: "1", NODE_ENV: "production" }],
    ["BILLING_PLANS_FILE", { BILLING_PLANS_FILE: "/no/such/file.json" }],
  ])("stops on a bad %s, naming it", (variable, env) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(variable);
  });

  it("replaces the catalog with BILLING_PLANS_FILE and checks it", async () => {
    const dir = await mkdtemp(join(tmpdir(), "nno-plans-"));
    const file = join(dir, "plans.json");
    await writeFile(
      file,
      JSON.stringify({
        meters: [{ key: "seats", aggregation: "max", unit: "seats" }],
        plans: [
          {
            tier: "starter",
            name: "Solo",
            currency: "eur",
            prices: [{ priceId: "price_solo_monthly", interval: "month", amount: 500 }],
            meters: { seats: { included: 1, overage: { amount: 300, per: 1 } } },
          },
        ],
      }),
    );
    const config = loadConfig({ BILLING_PLANS_FILE: file });
    expect(config.catalog.plans.map((p) => p.name)).toEqual(["Solo"]);
    expect(config.catalog.price("price_growth_monthly")).toBeUndefined();

    await writeFile(
      file,
      JSON.stringify({
        meters: [{ key: "seats", aggregation: "max", unit: "seats" }],
        plans: [
          {
            tier: "starter",
            name: "Solo",
            currency: "eur",
            prices: [{ priceId: "price_solo_monthly", interval: "month", amount: 500 }],
            meters: { tokens: { included: 1, overage: null } },
          },
        ],
      }),
    );
    expect(() => loadConfig({ BILLING_PLANS_FILE: file })).toThrow(/unknown meter 'tokens'/);
  });
});
