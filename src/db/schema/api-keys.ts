import { sql } from "drizzle-orm";
import { index, pgTable, primaryKey, text, uniqueIndex } from "drizzle-orm/pg-core";
import { timestamptz } from "./columns.ts";
import { platforms } from "./platforms.ts";

/** API keys of a platform. Only a SHA-256 hash of the secret is stored. */
export const apiKeys = pgTable(
  "api_keys",
  {
    platformId: text()
      .notNull()
      .references(() => platforms.platformId),
    id: text().notNull(),
    keyHash: text().notNull(),
    /** The first characters of the secret, to recognise a key without revealing it. */
    prefix: text().notNull(),
    scopes: text().array().notNull().default(sql`'{}'::text[]`),
    createdAt: timestamptz("created_at").notNull(),
    revokedAt: timestamptz("revoked_at"),
  },
  (t) => [
    primaryKey({ columns: [t.platformId, t.id] }),
    uniqueIndex("api_keys_key_hash_idx").on(t.keyHash),
    index("api_keys_id_idx").on(t.id),
  ],
);

export type ApiKeyRow = typeof apiKeys.$inferSelect;

/**
 * Operator-level ingestion keys (`POST /operator/api-keys`): `usage:write` for any platform, for
 * the metering pipeline that reports every platform's usage. Only a hash is stored.
 */
export const operatorApiKeys = pgTable(
  "operator_api_keys",
  {
    id: text().primaryKey(),
    keyHash: text().notNull(),
    prefix: text().notNull(),
    scopes: text().array().notNull().default(sql`'{}'::text[]`),
    description: text(),
    createdAt: timestamptz("created_at").notNull(),
    revokedAt: timestamptz("revoked_at"),
  },
  (t) => [uniqueIndex("operator_api_keys_key_hash_idx").on(t.keyHash)],
);
