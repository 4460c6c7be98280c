import type { Logger } from "pino";
import type { Counter, Registry } from "prom-client";
import type { RateLimitConfig } from "../../config.ts";
import type { Database } from "../../db/client.ts";
import type { Principal } from "../principal.ts";
import type { BucketCharge, BucketStore, Decision } from "./buckets.ts";
import { EmptyBuckets } from "./empty-buckets.ts";
import { createPostgresStore } from "./postgres-store.ts";
import { createRedisStore, type RedisStore } from "./redis-store.ts";

/**
 * The service's rate limiter (issue 11): token buckets per API key (requests) and per platform
 * (usage events), in the database or in Redis, so every instance shares them. Built once by
 * `composeService` (src/compose.ts) and reached through the app's dependencies. Its own memory
 * holds nothing another instance needs: the store's connection, the request buckets it saw empty
 * until their next token (see empty-buckets.ts) and, for Redis, a short-lived copy of the
 * operator's overrides.
 */
export interface RateLimiter {
  /** Where the buckets live; `off` when BILLING_RATE_LIMITS=off. */
  readonly store: "postgres" | "redis" | "off";
  /** The bucket of one request by this caller. */
  requestCharge(principal: Principal): BucketCharge;
  /** The buckets of a usage batch: one per platform, costing its number of events. */
  eventCharges(eventsByPlatform: Map<string, number>): BucketCharge[];
  /**
   * Spends the charges from every bucket, or from none. Undefined when nothing was checked:
   * limits are off, or the store failed (the request goes through; see `failOpen`).
   */
  spend(charges: BucketCharge[]): Promise<Decision | undefined>;
  /** The operator changed a platform's limits: forget any copy of the old ones. */
  platformLimitsChanged(platformId: string): void;
  close(): Promise<void>;
}

/** Seconds between two log lines about a failing store (every failure is counted). */
const failureLogIntervalMs = 10_000;

/** Which bucket a charge spends, as the `bucket` label of the metrics. */
const metricLabelOf = (charge: BucketCharge) =>
  charge.kind === "events" ? "events" : charge.bucket === "operator" ? "operator" : "requests";

export const createRateLimiter = (opts: {
  config: RateLimitConfig;
  database: Database;
  logger: Logger;
  metrics: Registry;
}): RateLimiter => {
  const { config, database, logger, metrics } = opts;
  const store: BucketStore | undefined = !config.enabled
    ? undefined
    : config.redisUrl
      ? createRedisStore({ url: config.redisUrl, prefix: config.redisPrefix, db: database.db })
      : createPostgresStore(database);
  const refused = metrics.getSingleMetric("billing_rate_limited_total") as Counter | undefined;
  const failures = metrics.getSingleMetric("billing_rate_limit_errors_total") as
    | Counter
    | undefined;
  let lastFailureLog = Number.NEGATIVE_INFINITY;
  const empty = new EmptyBuckets();

  /**
   * A store that cannot answer (Redis down, a statement failing) lets requests through: the
   * limiter protects the service's capacity, and refusing everything while it is broken would
   * be the outage it exists to prevent. Each failure is counted; the log says so every 10 s.
   */
  const failOpen = (error: unknown): undefined => {
    failures?.inc({ store: store?.kind ?? "off" });
    const now = performance.now();
    if (now - lastFailureLog >= failureLogIntervalMs) {
      lastFailureLog = now;
      logger.warn(
        { err: error, store: store?.kind },
        "rate limit store failed: requests pass unchecked",
      );
    }
    return undefined;
  };

  return {
    store: store?.kind ?? "off",
    requestCharge: (principal) => {
      if (principal.kind === "operator") {
        return {
          platformId: "",
          bucket: "operator",
          kind: "requests",
          cost: 1,
          defaults: config.operator,
        };
      }
      return {
        // Operator-level ingestion keys belong to no platform: the defaults apply.
        platformId: principal.platformId ?? "",
        bucket: `key:${principal.keyId}`,
        kind: "requests",
        cost: 1,
        defaults: config.requests,
      };
    },
    eventCharges: (eventsByPlatform) =>
      [...eventsByPlatform].map(([platformId, cost]) => ({
        platformId,
        bucket: "events",
        kind: "events",
        cost,
        defaults: config.events,
      })),
    spend: async (charges) => {
      if (!store || charges.length === 0) return undefined;
      const sentAt = performance.now();
      let decision =
        charges.length === 1 ? empty.refusal(charges[0] as BucketCharge, sentAt) : undefined;
      if (!decision) {
        try {
          decision = await store.spend(charges);
        } catch (error) {
          return failOpen(error);
        }
        empty.remember(decision, sentAt);
      }
      if (!decision.granted) {
        for (const state of decision.buckets) {
          if (!state.sufficient) refused?.inc({ bucket: metricLabelOf(state.charge) });
        }
      }
      return decision;
    },
    platformLimitsChanged: (platformId) => {
      empty.forgetPlatform(platformId);
      if (store?.kind === "redis") (store as RedisStore).forget(platformId);
    },
    close: async () => {
      await store?.close();
    },
  };
};
