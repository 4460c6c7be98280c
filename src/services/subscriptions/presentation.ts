import { inArray } from "drizzle-orm";
import type { Interval, Tier } from "../../billing/plan-catalog.ts";
import type { Tx } from "../../db/client.ts";
import { type SubscriptionRow, subscriptions } from "../../db/schema/index.ts";
import { chargeableCard } from "../collection.ts";
import type { ServiceContext } from "../context.ts";

export interface Subscription {
  id: string;
  platformId: string;
  customerId: string;
  status: SubscriptionRow["status"];
  tier: Tier;
  priceId: string;
  interval: "month" | "year";
  quantity: number;
  unitAmount: number;
  currency: string;
  currentPeriodStart: string;
  currentPeriodEnd: string;
  cancelAtPeriodEnd: boolean;
  canceledAt: string | null;
  trialEnd: string | null;
  defaultPaymentMethodId: string | null;
  /**
   * The card the subscription's next charge will use: its own default, else the customer's, as
   * Stripe chooses (`chargeableCard`); only cards attached to the customer; null when none.
   */
  nextChargePaymentMethodId: string | null;
  /** A change scheduled for the end of the current period, applied by its renewal. */
  pendingChange: {
    tier: Tier;
    priceId: string;
    interval: Interval;
    quantity: number;
    effectiveAt: string;
  } | null;
  metadata: Record<string, string>;
  createdAt: string;
}

/** Subscriptions as the API shows them, with the card each one's next charge will use. */
export const presentSubscriptions = async (
  tx: Tx,
  rows: readonly SubscriptionRow[],
): Promise<Subscription[]> => {
  const cards =
    rows.length === 0
      ? []
      : await tx
          .select({
            id: subscriptions.id,
            card: chargeableCard("subscriptions"),
          })
          .from(subscriptions)
          .where(
            inArray(
              subscriptions.id,
              rows.map((r) => r.id),
            ),
          );
  const cardOf = new Map(cards.map((c) => [c.id, c.card]));
  return rows.map((row) => presentRow(row, cardOf.get(row.id) ?? null));
};

export const presentSubscription = async (tx: Tx, row: SubscriptionRow): Promise<Subscription> =>
  (await presentSubscriptions(tx, [row]))[0] as Subscription;

/** A subscription as the API shows it, given the card its next charge will use. */
export const presentRow = (row: SubscriptionRow, nextCharge: string | null): Subscription => ({
  id: row.id,
  platformId: row.platformId,
  customerId: row.customerId,
  status: row.status,
  tier: row.tier,
  priceId: row.priceId,
  interval: row.interval,
  quantity: row.quantity,
  unitAmount: row.unitAmount,
  currency: row.currency,
  currentPeriodStart: row.currentPeriodStart.toISOString(),
  currentPeriodEnd: row.currentPeriodEnd.toISOString(),
  cancelAtPeriodEnd: row.cancelAtPeriodEnd,
  canceledAt: row.canceledAt?.toISOString() ?? null,
  trialEnd: row.trialEnd?.toISOString() ?? null,
  defaultPaymentMethodId: row.defaultPaymentMethodId,
  nextChargePaymentMethodId: nextCharge,
  pendingChange: presentPendingChange(row),
  metadata: row.metadata,
  createdAt: row.createdAt.toISOString(),
});

/** The change scheduled for the period's end as the API shows it: effective at the period's end. */
export const presentPendingChange = (
  row: Pick<SubscriptionRow, "pendingChange" | "currentPeriodEnd">,
): Subscription["pendingChange"] =>
  row.pendingChange && {
    tier: row.pendingChange.tier,
    priceId: row.pendingChange.priceId,
    interval: row.pendingChange.interval,
    quantity: row.pendingChange.quantity,
    effectiveAt: row.currentPeriodEnd.toISOString(),
  };

/** The plan's name in the catalog (the tier itself for a plan no longer listed). */
export const planName = (ctx: ServiceContext, tier: string) => ctx.catalog.plan(tier)?.name ?? tier;

/**
 * How a subscription's plan reads on an invoice line and in a proration: "Growth × 3" (the
 * quantity only when above one), and with the interval for a period's fee ("Growth (monthly) × 3").
 */
export const subscriptionLineDescription = (
  ctx: ServiceContext,
  plan: { tier: string; quantity: number },
  interval?: Interval,
): string =>
  `${planName(ctx, plan.tier)}${interval ? ` (${interval}ly)` : ""}${plan.quantity > 1 ? ` × ${plan.quantity}` : ""}`;
