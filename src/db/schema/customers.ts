import { sql } from "drizzle-orm";
import { index, jsonb, pgTable, text, uniqueIndex } from "drizzle-orm/pg-core";
import { timestamptz } from "./columns.ts";

/**
 * The local view of processor customers: who owns them (a platform, or nobody for customers the
 * operator created directly) and what the processor last told us. Writes go to the processor
 * first; webhooks keep this view in step with changes made elsewhere (the portal).
 */
export const customers = pgTable(
  "customers",
  {
    id: text().primaryKey(),
    platformId: text(),
    email: text(),
    name: text(),
    metadata: jsonb().$type<Record<string, string>>().notNull().default({}),
    defaultPaymentMethodId: text(),
    createdAt: timestamptz("created_at").notNull(),
    updatedAt: timestamptz("updated_at").notNull(),
  },
  (t) => [
    uniqueIndex("customers_platform_id_idx")
      .on(t.platformId)
      .where(sql`${t.platformId} is not null`),
    index("customers_created_at_idx").on(t.createdAt, t.id),
  ],
);

export type CustomerRow = typeof customers.$inferSelect;
