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
    expect(config.usageGraceSeconds).toBe(3600);
    expect(config.pgliteSharedBuffers).toBe("16MB");
    expect(loadConfig({ BILLING_PGLITE_SHARED_BUFFERS: "128MB" }).pgliteSharedBuffers).toBe(
      "128MB",
    );
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
    ["BILLING_PGLITE_SHARED_BUFFERS", { BILLING_PGLITE_SHARED_BUFFERS: "16MB; drop" }],
    ["BILLING_RATE_LIMIT_REQUESTS_PER_SECOND", { BILLING_RATE_LIMIT_REQUESTS_PER_SECOND: "0" }],
    ["BILLING_RATE_LIMIT_EVENT_BURST", { BILLING_RATE_LIMIT_EVENT_BURST: "999" }],
    ["BILLING_RATE_LIMITS", { BILLING_RATE_LIMITS: "maybe" }],
    ["REDIS_URL", { REDIS_URL: "127.0.0.1:6379" }],
    ["STRIPE_WEBHOOK_SECRET", { STRIPE_SECRET_KEY: "sk_live_abc" }],
    ["STRIPE_EMULATOR_API", { STRIPE_EMULATOR_API: "maybe" }],
    ["STRIPE_MAX_WRITES_PER_SECOND", { STRIPE_MAX_WRITES_PER_SECOND: "-5" }],
    ["STRIPE_MAX_WRITES_PER_SECOND", { STRIPE_MAX_WRITES_PER_SECOND: "fast" }],
    [
      "STRIPE_MAX_WRITES_PER_SECOND_PER_ENDPOINT",
      { STRIPE_MAX_WRITES_PER_SECOND_PER_ENDPOINT: "-1" },
    ],
    ["STRIPE_EMULATOR_RATE_LIMIT", { STRIPE_EMULATOR_RATE_LIMIT: "-1" }],
    ["BILLING_USAGE_GRACE_SECONDS", { BILLING_USAGE_GRACE_SECONDS: "an hour" }],
    ["BILLING_USAGE_GRACE_SECONDS", { BILLING_USAGE_GRACE_SECONDS: "-1" }],
    [
      "STRIPE_EMULATOR_PORTAL_SESSION_TTL_SECONDS",
      { STRIPE_EMULATOR_PORTAL_SESSION_TTL_SECONDS: "0" },
    ],
  ])("stops on a bad %s, naming it", (variable, env) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(variable);
  });

  it("has rate limits on by default, in the database, and reads every limit", () => {
    expect(loadConfig({}).rateLimits).toEqual({
      enabled: true,
      requests: { rate: 100, burst: 200 },
      operator: { rate: 1000, burst: 2000 },
      events: { rate: 20_000, burst: 100_000 },
      redisUrl: undefined,
      redisPrefix: "nno:rl:",
    });
    const set = loadConfig({
      BILLING_RATE_LIMITS: "off",
      BILLING_RATE_LIMIT_REQUESTS_PER_SECOND: "2.5",
      BILLING_RATE_LIMIT_REQUEST_BURST: "5",
      BILLING_RATE_LIMIT_OPERATOR_REQUESTS_PER_SECOND: "10",
      BILLING_RATE_LIMIT_OPERATOR_REQUEST_BURST: "20",
      BILLING_RATE_LIMIT_EVENTS_PER_SECOND: "500",
      BILLING_RATE_LIMIT_EVENT_BURST: "1000",
      REDIS_URL: "redis://127.0.0.1:6379/2",
      BILLING_RATE_LIMIT_REDIS_PREFIX: "x:",
    }).rateLimits;
    expect(set).toEqual({
      enabled: false,
      requests: { rate: 2.5, burst: 5 },
      operator: { rate: 10, burst: 20 },
      events: { rate: 500, burst: 1000 },
      redisUrl: "redis://127.0.0.1:6379/2",
      redisPrefix: "x:",
    });
  });

  it("serves the in-process emulator's API outside production only, unless told", () => {
    const served = (env: Record<string, string>) => loadConfig(env).stripe.emulatorApiServed;
    expect(served({})).toBe(true);
    expect(served({ NODE_ENV: "production" })).toBe(false);
    expect(served({ NODE_ENV: "production", STRIPE_EMULATOR_API: "1" })).toBe(true);
    expect(served({ STRIPE_EMULATOR_API: "0" })).toBe(false);
  });

  it("paces processor writes under Stripe's limit for the key's mode, and not for the emulator", () => {
    const rate = (env: Record<string, string>) => loadConfig(env).stripe.maxWritesPerSecond;
    expect(rate({})).toBe(0);
    expect(rate({ STRIPE_API_BASE: "http://127.0.0.1:12111" })).toBe(0);
    expect(rate({ STRIPE_SECRET_KEY: "sk_live_abc", STRIPE_WEBHOOK_SECRET: "whsec_x" })).toBe(90);
    expect(rate({ STRIPE_SECRET_KEY: "rk_live_abc", STRIPE_WEBHOOK_SECRET: "whsec_x" })).toBe(90);
    expect(rate({ STRIPE_SECRET_KEY: "sk_test_abc", STRIPE_WEBHOOK_SECRET: "whsec_x" })).toBe(20);
    expect(
      rate({
        STRIPE_SECRET_KEY: "sk_live_abc",
        STRIPE_WEBHOOK_SECRET: "whsec_x",
        STRIPE_MAX_WRITES_PER_SECOND: "40",
      }),
    ).toBe(40);
    expect(
      rate({
        STRIPE_SECRET_KEY: "sk_test_abc",
        STRIPE_WEBHOOK_SECRET: "whsec_x",
        STRIPE_MAX_WRITES_PER_SECOND: "0",
      }),
    ).toBe(0);
    expect(rate({ STRIPE_MAX_WRITES_PER_SECOND: "12.5" })).toBe(12.5);

    const perEndpoint = (env: Record<string, string>) =>
      loadConfig(env).stripe.maxWritesPerSecondPerEndpoint;
    expect(perEndpoint({})).toBe(0);
    expect(
      perEndpoint({ STRIPE_SECRET_KEY: "sk_live_abc", STRIPE_WEBHOOK_SECRET: "whsec_x" }),
    ).toBe(22);
    expect(
      perEndpoint({ STRIPE_SECRET_KEY: "sk_test_abc", STRIPE_WEBHOOK_SECRET: "whsec_x" }),
    ).toBe(22);
    expect(
      perEndpoint({
        STRIPE_SECRET_KEY: "sk_live_abc",
        STRIPE_WEBHOOK_SECRET: "whsec_x",
        STRIPE_MAX_WRITES_PER_SECOND_PER_ENDPOINT: "0",
      }),
    ).toBe(0);
  });

  it("has the emulator's rate limit off and portal sessions of five minutes by default", () => {
    expect(loadConfig({}).stripe).toMatchObject({
      emulatorRateLimit: 0,
      portalSessionTtlSeconds: 300,
    });
    expect(
      loadConfig({
        STRIPE_EMULATOR_RATE_LIMIT: "25",
        STRIPE_EMULATOR_PORTAL_SESSION_TTL_SECONDS: "60",
      }).stripe,
    ).toMatchObject({ emulatorRateLimit: 25, portalSessionTtlSeconds: 60 });
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
