import { and, eq, sql } from "drizzle-orm";
import type { PgUpdateSetSource } from "drizzle-orm/pg-core";
import type { Tx } from "../../db/client.ts";
import {
  endedSubscriptionStatuses,
  type SubscriptionRow,
  subscriptions,
} from "../../db/schema/index.ts";
import { conflict, notFound } from "../../errors.ts";
import { recordSubscriptionChanges } from "./events.ts";

/**
 * Every state transition of a subscription has one owner: the transaction that locks its row
 * first. It decides on the row as locked (and reads the clock only then), and writes it back with
 * `saveSubscription`, which also checks the version, so a decision is never taken on a row another
 * transaction is changing.
 */
export const lockSubscription = async (
  tx: Tx,
  subscriptionId: string,
): Promise<SubscriptionRow> => {
  const [row] = await tx
    .select()
    .from(subscriptions)
    .where(eq(subscriptions.id, subscriptionId))
    .for("update");
  if (!row) throw notFound("subscription", subscriptionId);
  return row;
};

/** Whether the subscription has ended (canceled, or incomplete and expired): nothing changes it. */
export const hasEnded = (row: Pick<SubscriptionRow, "status">) =>
  (endedSubscriptionStatuses as readonly string[]).includes(row.status);

/** 409 for a subscription that has ended, naming how. */
export const assertNotEnded = (row: Pick<SubscriptionRow, "id" | "status">, what = "") => {
  if (hasEnded(row)) {
    throw conflict(
      `subscription '${row.id}' is ${row.status === "canceled" ? "already canceled" : "incomplete_expired (its first invoice went unpaid)"}${what}`,
    );
  }
};

/** 409 while a plan change's proration invoice is being charged. */
export const assertNoChangeInFlight = (row: SubscriptionRow) => {
  if (row.pendingInvoiceId) {
    throw conflict(
      `a plan change of subscription '${row.id}' is being charged (invoice '${row.pendingInvoiceId}'); try again in a moment`,
    );
  }
};

/**
 * Writes a locked subscription: only if its version is still the one read, and with the version
 * moved on. 409 when it changed meanwhile (it cannot under the lock; the check is the last line).
 * Its events (`recordSubscriptionChanges`) go into the same transaction.
 */
export const saveSubscription = async (
  tx: Tx,
  row: SubscriptionRow,
  set: Omit<PgUpdateSetSource<typeof subscriptions>, "id" | "platformId" | "version">,
): Promise<SubscriptionRow> => {
  const [saved] = await tx
    .update(subscriptions)
    .set({ ...set, version: sql`${subscriptions.version} + 1` })
    .where(and(eq(subscriptions.id, row.id), eq(subscriptions.version, row.version)))
    .returning();
  if (!saved) throw conflict(`subscription '${row.id}' changed meanwhile; read it again`);
  await recordSubscriptionChanges({
    tx,
    input: { now: saved.updatedAt, changes: [{ before: row, after: saved }] },
  });
  return saved;
};
