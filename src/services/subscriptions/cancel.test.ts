import { describe, expect, it } from "vitest";
import type { Scenario } from "../../../test/scenario.ts";
import { useScenarios } from "../../../test/scenario.ts";

/**
 * A final invoice exists only when there is something on it. Stripe issues no invoice without
 * pending items ("Nothing to invoice for customer"), and a cancellation bills the un-invoiced
 * usage "if any": canceling with nothing to bill, now or at period end, takes no invoice number.
 */
const scenario = useScenarios();

let seq = 0;
const ingest = async (s: Scenario, key: string, platformId: string, value: number) => {
  seq += 1;
  const res = await s.t.request("POST", "/usage/events", {
    key,
    body: { events: [{ id: `final-${seq}`, platformId, meter: "api_requests", value }] },
  });
  expect(res.status, res.text).toBe(200);
};

describe("final invoices", () => {
  it("are not issued by an immediate cancellation with nothing to bill", async () => {
    const s = await scenario("2026-03-10T09:00:00.000Z");
    const { platformId, key, res } = await s.subscribe();
    const id = res.body.id as string;
    await s.clockTo("2026-03-20T09:00:00.000Z");
    const canceled = await s.t.request("DELETE", `/subscriptions/${id}?immediately=true`, { key });
    expect(canceled.status, canceled.text).toBe(200);
    expect(canceled.body).toMatchObject({ status: "canceled" });
    expect((await s.invoicesOf(platformId)).map((i) => i.number)).toEqual(["NNO-000001"]);
    // The next invoice anywhere takes the next number: no gap, no empty invoice.
    const other = await s.subscribe();
    expect((await s.invoicesOf(other.platformId)).map((i) => i.number)).toEqual(["NNO-000002"]);
    await s.invariants({ canceled: [id] });
  });

  it("are not issued at period end with no usage, and are with usage", async () => {
    const s = await scenario("2026-03-10T09:00:00.000Z");
    const quiet = await s.subscribe();
    const busy = await s.subscribe();
    for (const p of [quiet, busy]) {
      const cancel = await s.t.request("POST", "/subscription/cancel", { key: p.key });
      expect(cancel.status, cancel.text).toBe(200);
    }
    // Growth includes 1,000,000 requests, then $0.50 per started 10,000.
    await s.clockTo("2026-03-25T09:00:00.000Z");
    await ingest(s, busy.key, busy.platformId, 1_015_000);
    // Well past the period's end (and any grace left to usage arriving late).
    await s.clockTo("2026-04-10T12:00:00.000Z");
    for (const p of [quiet, busy]) {
      expect((await s.subscription(p.res.body.id)).status).toBe("canceled");
    }
    expect((await s.invoicesOf(quiet.platformId)).map((i) => i.number)).toEqual(["NNO-000001"]);
    const [, final] = await s.invoicesOf(busy.platformId);
    expect(final).toMatchObject({
      number: "NNO-000003",
      description: "Final invoice",
      status: "paid",
      total: 100,
      amountPaid: 100,
    });
    expect(final?.lines.map((l) => [l.type, l.quantity, l.amount])).toEqual([["usage", 2, 100]]);
    await s.invariants({ canceled: [quiet.res.body.id, busy.res.body.id] });
  });

  it("are issued by an immediate cancellation that has usage to bill", async () => {
    const s = await scenario("2026-03-10T09:00:00.000Z");
    const { platformId, key, res } = await s.subscribe();
    await s.clockTo("2026-03-20T09:00:00.000Z");
    await ingest(s, key, platformId, 1_000_001);
    const canceled = await s.t.request("DELETE", `/subscriptions/${res.body.id}?immediately=true`, {
      key,
    });
    expect(canceled.status, canceled.text).toBe(200);
    const invoices = await s.invoicesOf(platformId);
    expect(invoices.map((i) => [i.number, i.description, i.total, i.status])).toEqual([
      ["NNO-000001", null, 9900, "paid"],
      ["NNO-000002", "Final invoice", 50, "paid"],
    ]);
    await s.invariants({ canceled: [res.body.id] });
  });
});
