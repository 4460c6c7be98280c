import { index, pgTable, text } from "drizzle-orm/pg-core";
import { timestamptz } from "./columns.ts";

/**
 * Operator console sessions (`/console`): made at sign-in with the operator key. Only a SHA-256
 * hash of the session id (the cookie's value) is stored, so a copy of this table signs nobody
 * in; the CSRF token every console form carries belongs to the session.
 */
export const consoleSessions = pgTable(
  "console_sessions",
  {
    idHash: text().primaryKey(),
    csrfToken: text().notNull(),
    createdAt: timestamptz("created_at").notNull(),
    expiresAt: timestamptz("expires_at").notNull(),
  },
  (t) => [index("console_sessions_expires_idx").on(t.expiresAt)],
);

export type ConsoleSessionRow = typeof consoleSessions.$inferSelect;
