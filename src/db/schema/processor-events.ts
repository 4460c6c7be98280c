import { pgTable, text } from "drizzle-orm/pg-core";
import { timestamptz } from "./columns.ts";

/** Processor webhook events already applied: a replayed event id does nothing. */
export const processorEvents = pgTable("processor_events", {
  id: text().primaryKey(),
  type: text().notNull(),
  objectId: text(),
  receivedAt: timestamptz("received_at").notNull(),
});
