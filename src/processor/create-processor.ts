import type { Logger } from "pino";
import type { Clock } from "../clock.ts";
import type { Config } from "../config.ts";
import type { Db } from "../db/client.ts";
import {
  createStripeEmulator,
  EMULATOR_WEBHOOK_SECRET_DEFAULT,
  type StripeEmulator,
  type StripeEmulatorOptions,
} from "../emulator/stripe/index.ts";
import { randomToken } from "../ids.ts";
import { createStripeClient, EMULATOR_SECRET_KEY, type FetchFn } from "./stripe-client.ts";
import { StripeProcessor } from "./stripe-processor.ts";
import { type PacerTime, WritePacer } from "./write-pacer.ts";

export interface PaymentProcessor {
  processor: StripeProcessor;
  /** The built-in emulator, when the SDK talks to it in-process (the embedded default). */
  emulator: StripeEmulator | undefined;
  /** Where the in-process emulator delivers its webhooks: the service's own app. */
  deliverWebhooksTo(fetch: FetchFn): void;
}

/**
 * Chooses where the SDK sends requests: Stripe (`STRIPE_SECRET_KEY`), another Stripe-compatible
 * host (`STRIPE_API_BASE`, e.g. `npm run emulator`), or the emulator in this process. Everything
 * above the SDK is the same code in all three cases. Each processor paces its own writes to
 * `STRIPE_MAX_WRITES_PER_SECOND[_PER_ENDPOINT]` (its pacer lives and dies with it; several
 * processes sharing one Stripe account each keep to the configured rates).
 */
export const createPaymentProcessor = (opts: {
  config: Config;
  db: Db;
  clock: Clock;
  /** The clock the in-process emulator signs and delivers webhooks by (`clock` by default). */
  webhookClock?: Clock;
  logger: Logger;
  listInvoices?: StripeEmulatorOptions["listInvoices"];
  /** The pacer's time source; a monotonic clock unless a test passes its own. */
  pacerTime?: PacerTime;
  /**
   * The secret key of the in-process emulator's API: the only key it accepts (`npm start` keeps
   * one per data directory; by default a new random one per process, which only this process's
   * SDK knows).
   */
  emulatorApiKey?: string;
}): PaymentProcessor => {
  const { stripe } = opts.config;
  const webhookSecret = stripe.webhookSecret ?? EMULATOR_WEBHOOK_SECRET_DEFAULT;
  const pacer = new WritePacer({
    perSecond: stripe.maxWritesPerSecond,
    perEndpoint: stripe.maxWritesPerSecondPerEndpoint,
    ...(opts.pacerTime ? { time: opts.pacerTime } : {}),
  });
  if (stripe.secretKey || stripe.apiBase) {
    const client = createStripeClient({
      secretKey: stripe.secretKey ?? EMULATOR_SECRET_KEY,
      apiBase: stripe.apiBase,
    });
    return {
      processor: new StripeProcessor(client, webhookSecret, { pacer }),
      emulator: undefined,
      deliverWebhooksTo: () => {},
    };
  }

  let webhookTarget: FetchFn | undefined;
  const apiKey = opts.emulatorApiKey ?? `sk_test_${randomToken(40)}`;
  const emulator = createStripeEmulator({
    apiKey,
    db: opts.db,
    clock: opts.clock,
    deliveryClock: opts.webhookClock ?? opts.clock,
    webhookSecret,
    deliver: (request) => {
      if (!webhookTarget) return Promise.resolve(new Response("not ready", { status: 503 }));
      return webhookTarget(request);
    },
    webhookUrl: `${opts.config.publicBaseUrl}/webhooks/stripe`,
    publicBaseUrl: `${opts.config.publicBaseUrl}/emulator/stripe`,
    logger: opts.logger,
    rateLimit: { writesPerSecond: stripe.emulatorRateLimit },
    portalSessionTtlSeconds: stripe.portalSessionTtlSeconds,
    ...(opts.listInvoices ? { listInvoices: opts.listInvoices } : {}),
  });
  const client = createStripeClient({
    secretKey: apiKey,
    inProcess: (request) => emulator.fetch(request),
    maxNetworkRetries: 0,
  });
  return {
    processor: new StripeProcessor(client, webhookSecret, { pacer }),
    emulator,
    deliverWebhooksTo: (fetch) => {
      webhookTarget = fetch;
    },
  };
};

/** Which processor `createPaymentProcessor` talks to, as the start-up log reports it. */
export type ProcessorDescription =
  | { kind: "emulator" }
  | { kind: "stripe-compatible"; apiBase: string }
  | { kind: "stripe"; mode: "test" | "live"; restrictedKey: boolean };

/** The same choice as `createPaymentProcessor` makes, from the configuration alone. */
export const describeProcessor = (stripe: Config["stripe"]): ProcessorDescription => {
  if (stripe.apiBase) return { kind: "stripe-compatible", apiBase: stripe.apiBase };
  if (stripe.secretKey) {
    return {
      kind: "stripe",
      mode: /^(sk|rk)_live_/.test(stripe.secretKey) ? "live" : "test",
      restrictedKey: stripe.secretKey.startsWith("rk_"),
    };
  }
  return { kind: "emulator" };
};

/** One phrase for the start-up line: "built-in Stripe emulator", "Stripe (live mode)", … */
export const processorPhrase = (processor: ProcessorDescription): string => {
  switch (processor.kind) {
    case "emulator":
      return "built-in Stripe emulator (in process)";
    case "stripe-compatible":
      return `Stripe-compatible host at ${processor.apiBase} (STRIPE_API_BASE)`;
    case "stripe":
      return `Stripe (${processor.mode} mode${processor.restrictedKey ? ", restricted key" : ""})`;
  }
};
