import { integer, pgTable, primaryKey, text } from "drizzle-orm/pg-core";
import { timestamptz } from "./columns.ts";

/**
 * Stored responses for `Idempotency-Key`. `scope` is the caller (operator, or the platform of a
 * key), so two platforms can use the same key. A row without `responseStatus` is in flight.
 */
export const idempotencyKeys = pgTable(
  "idempotency_keys",
  {
    scope: text().notNull(),
    key: text().notNull(),
    fingerprint: text().notNull(),
    responseStatus: integer(),
    responseBody: text(),
    createdAt: timestamptz("created_at").notNull(),
    expiresAt: timestamptz("expires_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.scope, t.key] })],
);
