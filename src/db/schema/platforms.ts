import { index, pgTable, text } from "drizzle-orm/pg-core";
import { timestamptz } from "./columns.ts";

/** A platform: NNO's customer. `customerId` is its customer at the payment processor. */
export const platforms = pgTable(
  "platforms",
  {
    platformId: text().primaryKey(),
    name: text().notNull(),
    email: text().notNull(),
    customerId: text(),
    createdAt: timestamptz("created_at").notNull(),
    updatedAt: timestamptz("updated_at").notNull(),
  },
  (t) => [index("platforms_created_at_idx").on(t.createdAt, t.platformId)],
);

export type PlatformRow = typeof platforms.$inferSelect;
