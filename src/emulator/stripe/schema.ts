import { sql } from "drizzle-orm";
import { bigint, boolean, index, integer, jsonb, pgTable, text } from "drizzle-orm/pg-core";
import { timestamptz } from "../../db/schema/columns.ts";

/**
 * The Stripe emulator's state. Every Stripe object (customer, payment method, setup intent,
 * payment intent, charge, portal session) is one row holding its API representation in `data`;
 * the other columns exist only to find and order rows. `seq` gives lists a total order that
 * does not depend on the clock (many objects share a `created` second).
 */
export const stripeEmuObjects = pgTable(
  "stripe_emu_objects",
  {
    id: text().primaryKey(),
    seq: bigint({ mode: "number" }).generatedAlwaysAsIdentity(),
    /** The Stripe `object` name: "customer", "payment_method", "billing_portal.session", ... */
    object: text().notNull(),
    customer: text(),
    /**
     * Retired objects stay readable but leave every list. Deleted customers (read back as
     * `{id, object, deleted: true}`), and payment methods that may not be used again: detached
     * from a customer, or used once without one (Stripe's API object shows nothing of it).
     */
    deleted: boolean().notNull().default(false),
    createdAt: timestamptz("created_at").notNull(),
    updatedAt: timestamptz("updated_at").notNull(),
    data: jsonb().$type<Record<string, unknown>>().notNull(),
  },
  (t) => [
    index("stripe_emu_objects_object_seq_idx").on(t.object, t.seq),
    index("stripe_emu_objects_customer_seq_idx").on(t.customer, t.object, t.seq),
  ],
);

/**
 * Events in creation order, with their webhook delivery state, so undelivered events survive a
 * restart. `nextAttemptAt` null means nothing more will be attempted: delivered, abandoned after
 * Stripe's three days of retries, or created while no endpoint was configured. `createdAt`,
 * `nextAttemptAt` and `deliveredAt` are on the delivery clock (real time while the service runs a
 * test clock); the event's `created` in `data` is the emulator clock's.
 */
export const stripeEmuEvents = pgTable(
  "stripe_emu_events",
  {
    id: text().primaryKey(),
    seq: bigint({ mode: "number" }).generatedAlwaysAsIdentity(),
    type: text().notNull(),
    createdAt: timestamptz("created_at").notNull(),
    data: jsonb().$type<Record<string, unknown>>().notNull(),
    attempts: integer().notNull().default(0),
    nextAttemptAt: timestamptz("next_attempt_at"),
    deliveredAt: timestamptz("delivered_at"),
    lastError: text(),
  },
  (t) => [
    index("stripe_emu_events_seq_idx").on(t.seq),
    index("stripe_emu_events_pending_idx").on(t.seq).where(sql`${t.nextAttemptAt} is not null`),
  ],
);

/**
 * Stored responses for `Idempotency-Key`, as Stripe keeps them: for 24 hours, per key, with a
 * fingerprint of method, path and parameters so a reuse with other parameters is refused.
 */
export const stripeEmuIdempotencyKeys = pgTable("stripe_emu_idempotency_keys", {
  key: text().primaryKey(),
  fingerprint: text().notNull(),
  method: text().notNull(),
  path: text().notNull(),
  responseStatus: integer().notNull(),
  responseBody: text().notNull(),
  createdAt: timestamptz("created_at").notNull(),
  expiresAt: timestamptz("expires_at").notNull(),
});
