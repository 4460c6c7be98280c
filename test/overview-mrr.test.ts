import { describe, expect, it } from "vitest";
import { useScenarios } from "./scenario.ts";

/**
 * MRR in the operator overview: each subscription's monthly share summed exactly (a yearly
 * price is a twelfth a month, a fraction of a minor unit), and rounded once per currency — as
 * revenue reports do, so many yearly subscriptions do not add up their rounding.
 */
const scenario = useScenarios();

describe("GET /operator/overview", () => {
  it("sums yearly subscriptions' monthly shares exactly and rounds once", async () => {
    const s = await scenario("2026-03-10T09:00:00.000Z");
    // Three Starter yearly (29,000 / 12 = 2,416.67 each) and one Scale yearly (41,583.33).
    for (let n = 0; n < 3; n++) {
      const { res } = await s.subscribe({ priceId: "price_starter_yearly" });
      expect(res.status, res.text).toBe(201);
    }
    await s.subscribe({ priceId: "price_scale_yearly" });
    await s.subscribe({ priceId: "price_growth_monthly" });
    await s.clockTo("2026-04-10T09:00:00.000Z");
    const overview = await s.t.request("GET", "/operator/overview");
    expect(overview.status, overview.text).toBe(200);
    // (3 × 29,000 + 499,000) / 12 + 9,900 = 48,833.33 + 9,900 → 58,733 (rounding each: 58,734).
    expect(overview.body.mrr).toEqual({ usd: 58733 });
    expect(overview.body).toMatchObject({ activePlatforms: 5 });
    await s.invariants();
  });
});
