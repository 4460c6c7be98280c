import type { Interval, Price, Tier } from "../../billing/plan-catalog.ts";
import type { SubscriptionRow } from "../../db/schema/index.ts";
import { invalid } from "../../errors.ts";
import type { ServiceContext } from "../context.ts";

/** The catalog's price `priceId`; 400 naming the known ones when there is none. */
export const priceOrInvalid = (ctx: ServiceContext, priceId: string): Price => {
  const price = ctx.catalog.price(priceId);
  if (!price) {
    throw invalid(`unknown price '${priceId}'`, [
      {
        path: ["priceId"],
        message: `one of ${ctx.catalog.plans.flatMap((p) => p.prices.map((x) => x.priceId)).join(", ")}`,
      },
    ]);
  }
  return price;
};

/** The price of `tier` at `interval` (the subscription's own by default); 400 when there is none. */
export const priceForTier = (
  ctx: ServiceContext,
  row: SubscriptionRow,
  tier: Tier,
  interval: Interval = row.interval,
): Price => {
  const plan = ctx.catalog.plan(tier);
  const price = plan?.prices.find((p) => p.interval === interval);
  if (!plan || !price) {
    throw invalid(`tier '${tier}' has no ${interval}ly price`, [
      { path: ["tier"], message: "not available at this billing interval" },
    ]);
  }
  return { ...price, tier: plan.tier, currency: plan.currency };
};
