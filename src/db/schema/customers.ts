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
    /** The billing address printed on documents; kept here only (the processor never sees it). */
    address: jsonb().$type<PostalAddress>(),
    /** The buyer's tax id printed on documents (VAT number, EIN, ...). */
    taxId: text(),
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

export interface PostalAddress {
  line1: string;
  line2?: string | undefined;
  city: string;
  postalCode: string;
  state?: string | undefined;
  /** ISO 3166-1 alpha-2, upper case. */
  country: string;
}

export type CustomerRow = typeof customers.$inferSelect;
