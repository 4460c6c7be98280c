import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { mrrSnapshots, revenueDays, subscriptions } from "../src/db/schema/index.ts";
import { revenueByMonth } from "../src/services/console/console-overview.ts";
import {
  mrrHistory,
  recordMrrSnapshot,
  recordRevenueDays,
} from "../src/services/console/mrr-snapshots.ts";
import { runDueWork } from "../src/worker/due-work.ts";
import { useScenarios } from "./scenario.ts";

const scenario = useScenarios();
const DAY = 86_400;

const snapshots = async (db: Parameters<typeof recordMrrSnapshot>[0]["ctx"]["db"]) =>
  (await db.select().from(mrrSnapshots).orderBy(mrrSnapshots.day, mrrSnapshots.currency)).map(
    (r) => ({ day: r.day, currency: r.currency, amount: Number(r.amount), n: r.subscriptions }),
  );

describe("daily MRR snapshots", () => {
  it("are recorded by the worker at the test clock's day, one row per day and currency, the day's last pass winning", async () => {
    const s = await scenario("2026-02-01T10:00:00.000Z");
    const a = await s.subscribe({ priceId: "price_growth_monthly" });
    await s.subscribe({ priceId: "price_scale_yearly" });
    expect(a.res.status).toBe(201);
    await s.clockBy(DAY);
    // The advance passes at its start (Feb 1) and at its end (Feb 2).
    // 99.00 + 4,990.00 / 12 = 415.8333 → 514.83 (rounded once over the sum)
    expect(await snapshots(s.t.database.db)).toEqual([
      { day: "2026-02-01", currency: "usd", amount: 51483, n: 2 },
      { day: "2026-02-02", currency: "usd", amount: 51483, n: 2 },
    ]);
    // A plan change the same day: the next pass overwrites the day's row, history keeps the rest.
    await s.t.database.db
      .update(subscriptions)
      .set({ status: "canceled" })
      .where(eq(subscriptions.platformId, a.platformId));
    await runDueWork({ ctx: s.t.deps });
    await runDueWork({ ctx: s.t.deps });
    expect(await snapshots(s.t.database.db)).toEqual([
      { day: "2026-02-01", currency: "usd", amount: 51483, n: 2 },
      { day: "2026-02-02", currency: "usd", amount: 41583, n: 1 },
    ]);
    await s.clockBy(3 * DAY);
    const rows = await snapshots(s.t.database.db);
    expect(rows.map((r) => r.day)).toEqual(["2026-02-01", "2026-02-02", "2026-02-05"]);
    // The history fills the days between with the last recorded level.
    const history = await mrrHistory({ ctx: s.t.deps, input: { days: 6 } });
    expect(history.days).toEqual([
      "2026-01-31",
      "2026-02-01",
      "2026-02-02",
      "2026-02-03",
      "2026-02-04",
      "2026-02-05",
    ]);
    expect(history.series.usd).toEqual([null, 51483, 41583, 41583, 41583, 41583]);
  });

  it("agree with the API's overview, and concurrent passes of many workers leave one row", async () => {
    const s = await scenario("2026-04-10T10:00:00.000Z");
    for (const priceId of [
      "price_starter_monthly",
      "price_growth_yearly",
      "price_growth_monthly",
    ]) {
      await s.subscribe({ priceId });
    }
    await Promise.all(Array.from({ length: 8 }, () => recordMrrSnapshot({ ctx: s.t.deps })));
    const overview = await s.t.request("GET", "/operator/overview");
    expect(await snapshots(s.t.database.db)).toEqual([
      { day: "2026-04-10", currency: "usd", amount: overview.body.mrr.usd, n: 3 },
    ]);
  });

  it("record nothing while nothing pays", async () => {
    const s = await scenario("2026-04-10T10:00:00.000Z");
    expect(await recordMrrSnapshot({ ctx: s.t.deps })).toEqual({ recorded: 0 });
    expect(await snapshots(s.t.database.db)).toEqual([]);
  });

  it("keep each day's money collected, filling the days a clock jump skipped, and add up to the paid invoices", async () => {
    const s = await scenario("2026-02-01T10:00:00.000Z");
    const a = await s.subscribe({ priceId: "price_growth_monthly" });
    await s.subscribe({ priceId: "price_starter_monthly", card: "pm_card_chargeDeclined" });
    await s.clockTo("2026-04-15T10:00:00.000Z");
    await Promise.all([recordRevenueDays({ ctx: s.t.deps }), recordRevenueDays({ ctx: s.t.deps })]);
    const days = (await s.t.database.db.select().from(revenueDays).orderBy(revenueDays.day)).map(
      (r) => [r.day, r.currency, Number(r.collected)],
    );
    expect(days).toEqual([
      ["2026-02-01", "usd", 9900],
      ["2026-03-01", "usd", 9900],
      ["2026-04-01", "usd", 9900],
    ]);
    const paid = (await s.invoicesOf(a.platformId)).reduce((sum, i) => sum + i.amountPaid, 0);
    expect(paid).toBe(3 * 9900);
    const revenue = await revenueByMonth({ ctx: s.t.deps });
    expect(revenue.months.slice(-3)).toEqual(["2026-02", "2026-03", "2026-04"]);
    expect(revenue.collected.usd?.slice(-4)).toEqual([0, 9900, 9900, 9900]);
  });
});
