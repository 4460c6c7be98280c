import type { Logger } from "pino";
import type { Registry } from "prom-client";
import type { PlanCatalog } from "../billing/plan-catalog.ts";
import type { Clock } from "../clock.ts";
import type { Config } from "../config.ts";
import type { Database, Db } from "../db/client.ts";
import type { StripeProcessor } from "../processor/stripe-processor.ts";
import type { ApiKeyCache } from "./api-key-cache.ts";
import type { UsageStore } from "./usage/usage-store.ts";

/**
 * Everything a service needs, built once at start by the composition root (`composeContext` in
 * `src/compose.ts`) and passed explicitly: services never import singletons and keep no state of
 * their own in modules, so tests give them an embedded database and a fixed clock, and two
 * services composed in one process share nothing.
 */
export interface ServiceContext {
  db: Db;
  database: Database;
  clock: Clock;
  /**
   * The clock webhook signatures are judged by (the 5-minute tolerance): the real one while the
   * service runs a test clock, as Stripe signs in real time whatever its test clocks say, and
   * the one the built-in emulator signs by. `clock` when absent.
   */
  webhookClock?: Clock;
  catalog: PlanCatalog;
  config: Config;
  logger: Logger;
  processor: StripeProcessor;
  /** Where services count what operators watch (batch failures, requests, rate limits). */
  metrics: Registry;
  /** Live API keys recently resolved; this service's own (see `ApiKeyCache`). */
  apiKeyCache: ApiKeyCache;
  /** Usage metering's tables and what the process remembers about them; one per database. */
  usage: UsageStore;
}
