import { timestamp } from "drizzle-orm/pg-core";

/** Timestamps are always timezone-aware and always set from the injected clock, never by SQL. */
export const timestamptz = (name: string) => timestamp(name, { withTimezone: true, mode: "date" });
