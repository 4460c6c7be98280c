import type { Logger } from "pino";
import { createApp } from "./app.ts";
import type { Clock, ManualClock } from "./clock.ts";
import type { Config } from "./config.ts";
import type { Database } from "./db/client.ts";
import { createPaymentProcessor } from "./processor/create-processor.ts";
import { invoicesForPortal } from "./services/invoicing.ts";

/**
 * Wires the whole service from its dependencies: the payment processor (and, by default, the
 * in-process Stripe emulator whose webhooks come back to this app), then the HTTP app. `npm
 * start` and the tests compose the service the same way.
 */
export const composeService = (opts: {
  database: Database;
  config: Config;
  logger: Logger;
  clock: Clock;
  testClock?: ManualClock | undefined;
  /**
   * The clock webhooks are signed, delivered and verified by (`clock` by default). `npm start`
   * passes the real clock, so that with a test clock webhooks still run in real time (Stripe's
   * test clocks do not move webhook signatures) and no clock jump makes a signature stale.
   */
  webhookClock?: Clock;
  operatorKey: string;
  /** The in-process emulator's API key; a random one per process when not given. */
  emulatorApiKey?: string;
}) => {
  const { database, config, logger, clock } = opts;
  const payments = createPaymentProcessor({
    config,
    db: database.db,
    clock,
    ...(opts.webhookClock ? { webhookClock: opts.webhookClock } : {}),
    logger,
    listInvoices: (customerId) => invoicesForPortal(database.db, customerId),
    ...(opts.emulatorApiKey ? { emulatorApiKey: opts.emulatorApiKey } : {}),
  });
  const { app, deps } = createApp({
    database,
    clock,
    webhookClock: opts.webhookClock,
    testClock: opts.testClock,
    config,
    logger,
    operatorKey: opts.operatorKey,
    processor: payments.processor,
    emulator: payments.emulator,
  });
  payments.deliverWebhooksTo((request) => Promise.resolve(app.fetch(request)));
  return { app, deps, emulator: payments.emulator };
};
