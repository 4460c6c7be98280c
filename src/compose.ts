import type { Logger } from "pino";
import { createApp } from "./app.ts";
import type { PlanCatalog } from "./billing/plan-catalog.ts";
import { type Clock, ManualClock, systemClock } from "./clock.ts";
import type { Config } from "./config.ts";
import { type Database, openDatabase } from "./db/client.ts";
import { migrate } from "./db/migrate.ts";
import type { StripeEmulator } from "./emulator/stripe/index.ts";
import type { AppDeps } from "./http/env.ts";
import { createMetricsRegistry } from "./http/metrics.ts";
import { createPaymentProcessor } from "./processor/create-processor.ts";
import { ApiKeyCache } from "./services/api-key-cache.ts";
import type { ServiceContext } from "./services/context.ts";
import { invoicesForPortal } from "./services/invoicing.ts";
import { createRateLimiter } from "./services/rate-limits/limiter.ts";
import { createTestClock, loadTestClock } from "./services/test-clock.ts";
import { createUsageStore } from "./services/usage/index.ts";
import { nextDueAt, runDueWork } from "./worker/due-work.ts";

/**
 * The composition root. Everything with state (the database handle, the clock, the processor and
 * its in-process emulator, the metrics registry, the API key cache, the rate limiter, the test
 * clock) is built here, once per composed service, and reached through the service context; no
 * module keeps any of it. `npm start` (`main.ts`), the worker (`worker/main.ts`) and the tests
 * (`test/harness.ts`) all compose the service through these functions.
 */

export interface ContextOptions {
  database: Database;
  config: Config;
  logger: Logger;
  clock: Clock;
  /**
   * The clock webhooks are signed, delivered and verified by (`clock` by default). `npm start`
   * passes the real clock, so that with a test clock webhooks still run in real time (Stripe's
   * test clocks do not move webhook signatures) and no clock jump makes a signature stale.
   */
  webhookClock?: Clock | undefined;
  /** The in-process emulator's API key; a random one per process when not given. */
  emulatorApiKey?: string | undefined;
  /** The plan catalog; the configured one by default. */
  catalog?: PlanCatalog;
}

export interface ComposedContext {
  ctx: ServiceContext;
  /** The built-in Stripe emulator, when the processor runs in this process. */
  emulator: StripeEmulator | undefined;
  /** Where the in-process emulator delivers its webhooks (the HTTP app, once there is one). */
  deliverWebhooksTo(fetch: (request: Request) => Promise<Response>): void;
}

/**
 * The service context alone: what services and the worker need, without HTTP. The worker runs
 * on this; `composeService` puts the HTTP app on top of it.
 */
export const composeContext = (opts: ContextOptions): ComposedContext => {
  const { database, config, logger, clock } = opts;
  const payments = createPaymentProcessor({
    config,
    db: database.db,
    clock,
    ...(opts.webhookClock ? { webhookClock: opts.webhookClock } : {}),
    logger,
    listInvoices: (customerId) => invoicesForPortal({ tx: database.db, input: { customerId } }),
    ...(opts.emulatorApiKey ? { emulatorApiKey: opts.emulatorApiKey } : {}),
  });
  const ctx: ServiceContext = {
    db: database.db,
    database,
    clock,
    ...(opts.webhookClock ? { webhookClock: opts.webhookClock } : {}),
    catalog: opts.catalog ?? config.catalog,
    config,
    logger,
    processor: payments.processor,
    metrics: createMetricsRegistry(config.env !== "test"),
    apiKeyCache: new ApiKeyCache(),
    usage: createUsageStore(database),
  };
  return { ctx, emulator: payments.emulator, deliverWebhooksTo: payments.deliverWebhooksTo };
};

export interface ServiceOptions extends ContextOptions {
  operatorKey: string;
  /** Set with BILLING_TEST_CLOCK=1: the clock the operator moves (the same object as `clock`). */
  testClock?: ManualClock | undefined;
}

/**
 * The whole service: the context, the rate limiter and the test clock, then the HTTP app on top
 * (whose webhook endpoint the in-process emulator delivers to). `close` stops the emulator's
 * webhook delivery, the rate limiter and the database, in that order.
 */
export const composeService = (opts: ServiceOptions) => {
  const composed = composeContext(opts);
  const { ctx, emulator } = composed;
  const deps: AppDeps = {
    ...ctx,
    operatorKey: opts.operatorKey,
    rateLimiter: createRateLimiter({
      config: opts.config.rateLimits,
      database: opts.database,
      logger: opts.logger,
      metrics: ctx.metrics,
    }),
  };
  if (opts.testClock) {
    deps.testClock = createTestClock({
      db: ctx.db,
      clock: opts.testClock,
      dueWork: { run: () => runDueWork({ ctx: deps }), nextDueAt: () => nextDueAt({ ctx: deps }) },
    });
  }
  const { app } = createApp({ deps, emulator });
  composed.deliverWebhooksTo((request) => Promise.resolve(app.fetch(request)));
  const close = async () => {
    await emulator?.stopDelivery();
    await deps.rateLimiter.close();
    await opts.database.close();
  };
  return { app, deps, emulator, close };
};

export type ComposedService = ReturnType<typeof composeService>;

/** The configured database, migrated: what `npm start` and the worker open first. */
export const openMigratedDatabase = async (config: Config): Promise<Database> => {
  const database = await openDatabase(config);
  await migrate(database);
  return database;
};

/**
 * The clock `npm start` bills by: the real one, or with BILLING_TEST_CLOCK=1 a test clock that
 * stands still until the operator moves it, continued from where the database left it.
 */
export const startClock = async (
  config: Config,
  database: Database,
): Promise<{ clock: Clock; testClock: ManualClock | undefined }> => {
  if (!config.testClock) return { clock: systemClock, testClock: undefined };
  const testClock = new ManualClock(systemClock.now());
  await loadTestClock(database.db, testClock);
  return { clock: testClock, testClock };
};
