import { describe, expect, it } from "vitest";
import { useScenarios } from "../../test/scenario.ts";

/**
 * A customer's credit balance has one currency, as Stripe's: that of its subscription, or else
 * of the first entry of its ledger. A credit in another currency would never be applied to an
 * invoice nor shown anywhere, so it is refused (400, naming both currencies).
 */
const scenario = useScenarios();

describe("operator credits", () => {
  it("are refused in a currency other than the subscription's, and applied in its own", async () => {
    const s = await scenario("2026-03-10T09:00:00.000Z");
    const { platformId, customerId, res } = await s.subscribe();
    expect(res.status, res.text).toBe(201);
    for (const currency of ["eur", "EUR"]) {
      const refused = await s.t.request("POST", "/operator/credits", {
        body: { customerId, amount: 50, currency, description: "wrong currency" },
      });
      expect(refused.status, refused.text).toBe(400);
      expect(refused.body.error.code).toBe("VALIDATION_ERROR");
      expect(refused.body.error.message).toContain("usd");
      expect(refused.body.error.message).toContain("eur");
      expect(refused.body.error.details).toEqual([expect.objectContaining({ path: ["currency"] })]);
    }
    const credited = await s.t.request("POST", "/operator/credits", {
      body: { customerId, amount: 12, currency: "usd", description: "goodwill" },
    });
    expect(credited.status, credited.text).toBe(200);
    expect(credited.body).toMatchObject({ currency: "usd", credited: 1200, balance: 1200 });

    await s.clockTo("2026-04-10T09:00:00.000Z");
    expect((await s.invoicesOf(platformId)).at(-1)).toMatchObject({
      total: 9900,
      creditApplied: 1200,
      amountDue: 8700,
      status: "paid",
    });
    await s.invariants();
  });

  it("take the currency of the first ledger entry when there is no subscription", async () => {
    const s = await scenario("2026-03-10T09:00:00.000Z");
    const { customerId } = await s.t.createPlatform();
    const first = await s.t.request("POST", "/operator/credits", {
      body: { customerId, amount: 5, currency: "eur", description: "first" },
    });
    expect(first.status, first.text).toBe(200);
    expect(first.body).toMatchObject({ currency: "eur", balance: 500 });
    const second = await s.t.request("POST", "/operator/credits", {
      body: { customerId, amount: 5, description: "usd by default" },
    });
    expect(second.status, second.text).toBe(400);
    expect(second.body.error.message).toMatch(/eur.*usd|usd.*eur/);
    const more = await s.t.request("POST", "/operator/credits", {
      body: { customerId, amount: 2.5, currency: "eur", description: "more" },
    });
    expect(more.body).toMatchObject({ currency: "eur", balance: 750 });
    await s.clockBy(86_400);
    await s.invariants();
  });
});
