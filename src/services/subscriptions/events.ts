import type { Tx } from "../../db/client.ts";
import type { SubscriptionRow } from "../../db/schema/index.ts";
import { subscriptionTrackedAttributes } from "../events/catalog.ts";
import { type NewEvent, recordEvents } from "../events/record-event.ts";
import { presentPendingChange, presentSubscriptions, type Subscription } from "./presentation.ts";

export interface SubscriptionChange {
  /** The row before the change; undefined for a subscription just created. */
  before: SubscriptionRow | undefined;
  after: SubscriptionRow;
}

/** The tracked attributes that differ, with their old values as the API shows them. */
const previousAttributes = (before: Subscription, after: Subscription) => {
  const changed: Record<string, unknown> = {};
  for (const key of subscriptionTrackedAttributes) {
    // Scalars, or `pendingChange` (null or a small object): compared by value.
    if (JSON.stringify(before[key]) !== JSON.stringify(after[key])) changed[key] = before[key];
  }
  return changed;
};

/**
 * The events of subscription changes, recorded in the caller's transaction (one statement to
 * present any number, one to record them): `subscription.created` for a new one;
 * `subscription.canceled` when the status became `canceled`; otherwise `subscription.updated`
 * when a tracked attribute (status, tier, price, quantity, interval, cancelAtPeriodEnd, trialEnd,
 * pendingChange) changed,
 * with their old values in `previousAttributes`. Changes of anything else (the period rolling
 * on, the card) raise nothing.
 */
export const recordSubscriptionChanges = async ({
  tx,
  input: { now, changes },
}: {
  tx: Tx;
  input: { now: Date; changes: readonly SubscriptionChange[] };
}): Promise<void> => {
  if (changes.length === 0) return;
  const presented = await presentSubscriptions(
    tx,
    changes.map((c) => c.after),
  );
  const events: NewEvent[] = [];
  changes.forEach(({ before, after }, k) => {
    const object = presented[k] as Subscription;
    const platformId = after.platformId;
    if (!before) {
      events.push({ type: "subscription.created", platformId, object });
      return;
    }
    // The old values as the API showed them (the card is not compared).
    const old = { ...object, ...pick(before) };
    const changed = previousAttributes(old, object);
    if (Object.keys(changed).length === 0) return;
    if (after.status === "canceled" && before.status !== "canceled") {
      events.push({
        type: "subscription.canceled",
        platformId,
        object,
        previousAttributes: changed,
      });
      return;
    }
    events.push({ type: "subscription.updated", platformId, object, previousAttributes: changed });
  });
  await recordEvents({ tx, input: { now, events } });
};

const pick = (row: SubscriptionRow) => ({
  status: row.status,
  tier: row.tier,
  priceId: row.priceId,
  quantity: row.quantity,
  interval: row.interval,
  cancelAtPeriodEnd: row.cancelAtPeriodEnd,
  trialEnd: row.trialEnd?.toISOString() ?? null,
  pendingChange: presentPendingChange(row),
});
