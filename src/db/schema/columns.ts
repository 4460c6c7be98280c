import { timestamp } from "drizzle-orm/pg-core";

/**
 * Timestamps are always timezone-aware and always set from the injected clock, never by SQL. The
 * one exception is `rate_limit_buckets.refilled_at`: rate limiting runs on real time, the
 * database's (see rate-limits.ts).
 */
export const timestamptz = (name: string) => timestamp(name, { withTimezone: true, mode: "date" });
