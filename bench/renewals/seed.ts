import { addInterval } from "../../src/billing/periods.ts";
import type { Db } from "../../src/db/client.ts";
import { customers, paymentMethods, platforms, subscriptions } from "../../src/db/schema/index.ts";
import { newId } from "../../src/ids.ts";
import type { StripeProcessor } from "../../src/processor/stripe-processor.ts";

/** The price every seeded subscription is on (DESIGN §7 catalog: Growth, monthly, $99). */
export const SEEDED_PRICE = {
  tier: "growth",
  priceId: "price_growth_monthly",
  interval: "month",
  unitAmount: 9900,
  currency: "usd",
} as const;

export interface SeededSubscription {
  platformId: string;
  customerId: string;
  paymentMethodId: string;
  subscriptionId: string;
  /** The period the renewal must invoice: period 1 of the anchor. */
  nextPeriodStart: Date;
}

const inParallel = async <T, R>(
  items: T[],
  limit: number,
  run: (item: T, index: number) => Promise<R>,
): Promise<R[]> => {
  const results: R[] = new Array(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await run(items[index] as T, index);
    }
  });
  await Promise.all(lanes);
  return results;
};

const chunks = <T>(items: T[], size: number): T[][] =>
  Array.from({ length: Math.ceil(items.length / size) }, (_, i) =>
    items.slice(i * size, (i + 1) * size),
  );

/**
 * `count` platforms, each with a processor customer holding a default Visa test card, and an
 * active monthly subscription whose period 0 ended an hour before `now`: all of them are due.
 *
 * Customers and cards are made through the processor adapter (the SDK against whichever
 * emulator `processor` talks to), so the renewal charges go through exactly the path production
 * takes; the service's own rows are inserted in bulk, as the subscribe flow would have left them.
 */
export const seedDueSubscriptions = async ({
  db,
  processor,
  count,
  now,
  concurrency = 8,
  prefix = "bench",
  subscribe = true,
}: {
  db: Db;
  processor: StripeProcessor;
  count: number;
  now: Date;
  concurrency?: number;
  prefix?: string;
  /** false: customers and cards only (for charges made outside billing). */
  subscribe?: boolean;
}): Promise<SeededSubscription[]> => {
  // Period 0 runs from a month and an hour ago to an hour ago; period 1 ends a month from now.
  const anchor = addInterval(new Date(now.getTime() - 3_600_000), "month", -1);
  const periodEnd = addInterval(anchor, "month", 1);
  const nextPeriodStart = periodEnd;

  const indexes = Array.from({ length: count }, (_, i) => i);
  const processorSide = await inParallel(indexes, concurrency, async (i) => {
    const platformId = `${prefix}_${String(i).padStart(6, "0")}`;
    const created = await processor.createCustomer({
      email: `billing+${platformId}@example.com`,
      name: `Platform ${i}`,
      metadata: { platformId },
    });
    const card = await processor.attachPaymentMethod("pm_card_visa", created.id);
    const customer = await processor.updateCustomer(created.id, {
      defaultPaymentMethodId: card.id,
    });
    return { platformId, customer, card };
  });

  const seeded: SeededSubscription[] = processorSide.map(({ platformId, customer, card }) => ({
    platformId,
    customerId: customer.id,
    paymentMethodId: card.id,
    subscriptionId: newId("sub"),
    nextPeriodStart,
  }));

  for (const batch of chunks(
    processorSide.map((p, i) => ({ ...p, sub: seeded[i] as SeededSubscription })),
    500,
  )) {
    await db.transaction(async (tx) => {
      await tx.insert(platforms).values(
        batch.map(({ platformId, customer }) => ({
          platformId,
          name: customer.name ?? platformId,
          email: customer.email ?? `${platformId}@example.com`,
          customerId: customer.id,
          createdAt: anchor,
          updatedAt: anchor,
        })),
      );
      await tx.insert(customers).values(
        batch.map(({ platformId, customer }) => ({
          id: customer.id,
          platformId,
          email: customer.email,
          name: customer.name,
          metadata: customer.metadata,
          defaultPaymentMethodId: customer.defaultPaymentMethodId,
          createdAt: anchor,
          updatedAt: anchor,
        })),
      );
      await tx.insert(paymentMethods).values(
        batch.map(({ customer, card }) => ({
          id: card.id,
          customerId: customer.id,
          type: card.type,
          brand: card.card?.brand ?? null,
          last4: card.card?.last4 ?? null,
          expMonth: card.card?.expMonth ?? null,
          expYear: card.card?.expYear ?? null,
          createdAt: anchor,
          updatedAt: anchor,
        })),
      );
      if (!subscribe) return;
      await tx.insert(subscriptions).values(
        batch.map(({ platformId, customer, card, sub }) => ({
          platformId,
          id: sub.subscriptionId,
          customerId: customer.id,
          status: "active" as const,
          tier: SEEDED_PRICE.tier,
          priceId: SEEDED_PRICE.priceId,
          interval: SEEDED_PRICE.interval,
          quantity: 1,
          unitAmount: SEEDED_PRICE.unitAmount,
          currency: SEEDED_PRICE.currency,
          billingAnchor: anchor,
          periodIndex: 0,
          currentPeriodStart: anchor,
          currentPeriodEnd: periodEnd,
          defaultPaymentMethodId: card.id,
          createdAt: anchor,
          updatedAt: anchor,
        })),
      );
    });
  }
  return seeded;
};
