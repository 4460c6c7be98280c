import type { Tx } from "../../db/client.ts";
import { liveSubscriptionStatuses } from "../../db/schema/index.ts";
import { notFound } from "../../errors.ts";
import type { ServiceContext } from "../context.ts";
import { queryRows, type SqlStatement } from "./sql-runner.ts";
import type { UsageSubscription } from "./usage-period.ts";

/**
 * Which platforms exist, each with what usage needs of its live subscription (or null), in one
 * prepared statement: every usage request, read or write, starts with it.
 */
/** The select list and joins of a platform with its live subscription, as `SubscriptionRow`. */
export const subscriptionColumns = `
select p.platform_id, s.tier, s.interval,
  (extract(epoch from s.billing_anchor) * 1000)::float8 as anchor_ms,
  (extract(epoch from s.current_period_start) * 1000)::float8 as start_ms,
  (extract(epoch from s.current_period_end) * 1000)::float8 as end_ms,
  (extract(epoch from s.created_at) * 1000)::float8 as created_ms,
  s.current_period_start as cps, s.current_period_end as cpe
from platforms p
left join subscriptions s on s.platform_id = p.platform_id
  and s.status in (${liveSubscriptionStatuses.map((status) => `'${status}'`).join(", ")})`;

const platformSubscriptionsStatement: SqlStatement = {
  name: "usage_platform_subscriptions_v3",
  text: `
${subscriptionColumns}
where p.platform_id = any($1::text[])`,
};

export interface SubscriptionColumns extends Record<string, unknown> {
  platform_id: string;
  tier: string | null;
  interval: "month" | "year" | null;
  anchor_ms: number | null;
  start_ms: number | null;
  end_ms: number | null;
  created_ms: number | null;
}

export const subscriptionOf = (row: SubscriptionColumns): UsageSubscription | null =>
  row.tier === null || row.interval === null
    ? null
    : {
        tier: row.tier,
        interval: row.interval,
        billingAnchor: new Date(Number(row.anchor_ms)),
        currentPeriodStart: new Date(Number(row.start_ms)),
        currentPeriodEnd: new Date(Number(row.end_ms)),
        createdAt: new Date(Number(row.created_ms)),
      };

export const platformSubscriptions = async ({
  ctx,
  platformIds,
  tx,
}: {
  ctx: ServiceContext;
  platformIds: readonly string[];
  tx?: Tx | undefined;
}): Promise<Map<string, UsageSubscription | null>> => {
  const rows = await queryRows<SubscriptionColumns>(
    ctx.database,
    tx,
    platformSubscriptionsStatement,
    [[...platformIds]],
  );
  return new Map(rows.map((row) => [row.platform_id, subscriptionOf(row)]));
};

/** The live subscription of one platform that must exist (404 otherwise). */
export const platformSubscriptionOrNotFound = async (args: {
  ctx: ServiceContext;
  platformId: string;
  tx?: Tx | undefined;
}): Promise<UsageSubscription | null> => {
  const found = await platformSubscriptions({ ...args, platformIds: [args.platformId] });
  const subscription = found.get(args.platformId);
  if (subscription === undefined) throw notFound("platform", args.platformId);
  return subscription;
};
