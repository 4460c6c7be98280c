import { inArray, sql } from "drizzle-orm";
import type { Tx } from "../db/client.ts";
import { balanceEntries, customers } from "../db/schema/index.ts";
import type { CustomerBalance } from "./events/catalog.ts";
import { type NewEvent, recordEvents } from "./events/record-event.ts";

export type NewBalanceEntry = typeof balanceEntries.$inferInsert;

const keyOf = (customerId: string, currency: string) => `${customerId}\u0000${currency}`;

/**
 * Appends entries to the customer balance ledger and records a `customer.balance_changed` event
 * per entry, in the caller's transaction: the only way the ledger is written. Each event carries
 * the balance right after its entry (entries of one customer in one call, in order).
 */
export const appendBalanceEntries = async ({
  tx,
  input: { now, entries },
}: {
  tx: Tx;
  input: { now: Date; entries: readonly NewBalanceEntry[] };
}): Promise<void> => {
  if (entries.length === 0) return;
  await tx.insert(balanceEntries).values([...entries]);
  const customerIds = [...new Set(entries.map((e) => e.customerId))];
  const [totals, owners] = await Promise.all([
    tx
      .select({
        customerId: balanceEntries.customerId,
        currency: balanceEntries.currency,
        balance: sql<number>`sum(${balanceEntries.amount})::bigint`,
      })
      .from(balanceEntries)
      .where(inArray(balanceEntries.customerId, customerIds))
      .groupBy(balanceEntries.customerId, balanceEntries.currency),
    tx
      .select({ id: customers.id, platformId: customers.platformId })
      .from(customers)
      .where(inArray(customers.id, customerIds)),
  ]);
  const running = new Map(totals.map((t) => [keyOf(t.customerId, t.currency), Number(t.balance)]));
  const platformOf = new Map(owners.map((o) => [o.id, o.platformId]));
  // Walk back from the final balance so each event shows the balance after its own entry.
  const events: NewEvent[] = [];
  for (const entry of [...entries].reverse()) {
    const key = keyOf(entry.customerId, entry.currency);
    const balance = running.get(key) ?? 0;
    running.set(key, balance - entry.amount);
    const object: CustomerBalance = {
      customerId: entry.customerId,
      platformId: platformOf.get(entry.customerId) ?? null,
      currency: entry.currency,
      balance,
      amount: entry.amount,
      reason: entry.kind,
    };
    events.push({ type: "customer.balance_changed", platformId: object.platformId, object });
  }
  await recordEvents({ tx, input: { now, events: events.reverse() } });
};
