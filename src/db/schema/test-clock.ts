import { integer, pgTable } from "drizzle-orm/pg-core";
import { timestamptz } from "./columns.ts";

/** The operator test clock (BILLING_TEST_CLOCK=1): one row, shared by every instance. */
export const testClock = pgTable("test_clock", {
  id: integer().primaryKey(),
  now: timestamptz("now").notNull(),
});
