import Stripe from "stripe";
import { describe, expect, it } from "vitest";
import { sdkFor, stripeError, useEmulator } from "../../../test/stripe-emulator-kit.ts";
import { WriteRateLimiter } from "./rate-limiter.ts";

// The limiter's clock stands still unless a test moves it, so what is refused is exact.
let monotonicNow = 0;
const t = await useEmulator({
  rateLimit: { writesPerSecond: 5, now: () => monotonicNow },
});

/** The official SDK, retries off. */
const stripe = sdkFor(t.emulator);

/** The `Idempotent-Replayed` header of an SDK result (the fetch client keeps the Response). */
const replayed = (result: { lastResponse: unknown }) =>
  (result.lastResponse as Response).headers.get("idempotent-replayed");

/** Drains the bucket: after this, the next write is refused until time moves. */
const useUpTheBucket = async () => {
  monotonicNow += 60_000;
  for (let i = 0; i < 5; i++) await stripe.customers.create({ email: `burst-${i}@example.com` });
};

describe("the emulator's rate limit (STRIPE_EMULATOR_RATE_LIMIT)", () => {
  it("answers writes above the rate with Stripe's 429 rate_limit, which the SDK does not retry", async () => {
    await useUpTheBucket();
    const error = await stripeError(() => stripe.customers.create({ email: "over@example.com" }));
    expect(error).toBeInstanceOf(Stripe.errors.StripeRateLimitError);
    expect(error).toMatchObject({
      statusCode: 429,
      rawType: "invalid_request_error",
      code: "rate_limit",
      doc_url: "https://stripe.com/docs/error-codes/rate-limit",
    });
    expect(error.message).toMatch(/^Request rate limit exceeded\./);
    expect(error.headers).toMatchObject({ "stripe-rate-limited-reason": "global-rate" });
    expect(error.headers?.["stripe-should-retry"]).toBeUndefined();
    expect(error.headers?.["retry-after"]).toBeUndefined();
  });

  it("keeps answering reads, and admits writes again as the bucket refills", async () => {
    await useUpTheBucket();
    const before = await stripe.customers.list({ limit: 100 });
    expect(before.data.length).toBeGreaterThanOrEqual(5);
    expect((await stripeError(() => stripe.customers.create({}))).statusCode).toBe(429);

    monotonicNow += 199; // a token every 200 ms
    expect((await stripeError(() => stripe.customers.create({}))).statusCode).toBe(429);
    monotonicNow += 1;
    const admitted = await stripe.customers.create({ email: "refilled@example.com" });
    expect(admitted.id).toMatch(/^cus_/);
    expect((await stripeError(() => stripe.customers.create({}))).statusCode).toBe(429);

    // Nothing of a refused write was stored: one customer more than before.
    const after = await stripe.customers.list({ limit: 100 });
    expect(after.data.map((c) => c.id)).toEqual([admitted.id, ...before.data.map((c) => c.id)]);
  });

  it("stores nothing for a refused idempotent write: the same key succeeds later, first time", async () => {
    await useUpTheBucket();
    const customer = (await stripe.customers.list({ limit: 1 })).data[0] as Stripe.Customer;
    const key = `limited-${customer.id}`;
    const charge = () =>
      stripe.paymentIntents.create(
        {
          amount: 1200,
          currency: "usd",
          customer: customer.id,
          payment_method: "pm_card_visa",
          confirm: true,
        },
        { idempotencyKey: key },
      );
    expect((await stripeError(charge)).statusCode).toBe(429);
    monotonicNow += 200;
    const paid = await charge();
    expect(paid.status).toBe("succeeded");
    expect(replayed(paid)).toBeNull();
    monotonicNow += 200;
    const replay = await charge();
    expect(replay.id).toBe(paid.id);
    expect(replayed(replay)).toBe("true");
  });

  it("is per emulator instance, and off by default", async () => {
    const other = await useEmulator();
    const unlimited = sdkFor(other.emulator);
    const many = await Promise.all(
      Array.from({ length: 40 }, (_, i) => unlimited.customers.create({ email: `u${i}@x.test` })),
    );
    expect(new Set(many.map((c) => c.id)).size).toBe(40);
  });
});

describe("WriteRateLimiter", () => {
  it("holds a burst of a second's worth, then one request per interval", () => {
    let now = 0;
    const limiter = new WriteRateLimiter({ perSecond: 4, now: () => now });
    const admitted = () => Array.from({ length: 6 }, () => limiter.admit().admitted);
    expect(admitted()).toEqual([true, true, true, true, false, false]);
    expect(limiter.admit()).toEqual({ admitted: false, retryAfterMs: 250 });
    now += 250;
    expect(admitted()).toEqual([true, false, false, false, false, false]);
    now += 10_000;
    expect(admitted().filter(Boolean)).toHaveLength(4);
  });

  it("refuses a rate that is not a positive number", () => {
    expect(() => new WriteRateLimiter({ perSecond: 0 })).toThrow(RangeError);
    expect(() => new WriteRateLimiter({ perSecond: Number.NaN })).toThrow(RangeError);
  });
});
