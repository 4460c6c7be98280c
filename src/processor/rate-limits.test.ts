import { performance } from "node:perf_hooks";
import pino from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { createTestDatabase } from "../../test/test-database.ts";
import { ManualClock } from "../clock.ts";
import { loadConfig } from "../config.ts";
import { EMULATOR_WEBHOOK_SECRET_DEFAULT } from "../emulator/stripe/index.ts";
import { AppError } from "../errors.ts";
import { createPaymentProcessor } from "./create-processor.ts";
import { RATE_LIMIT_RETRY_AFTER_MS, rateLimitOf } from "./processor-errors.ts";
import { createStripeClient, EMULATOR_SECRET_KEY } from "./stripe-client.ts";
import { StripeProcessor } from "./stripe-processor.ts";
import { type PacerTime, WritePacer } from "./write-pacer.ts";

/**
 * The processor's side of Stripe's rate limits: what a 429 becomes, and what the adapter does
 * after one. The answers come from a fake Stripe that counts the requests reaching it.
 */
const fakeStripe = (answer: () => Response) => {
  const seen: string[] = [];
  const client = (maxNetworkRetries: number) =>
    createStripeClient({
      secretKey: EMULATOR_SECRET_KEY,
      inProcess: async (request) => {
        seen.push(`${request.method} ${new URL(request.url).pathname}`);
        return answer();
      },
      maxNetworkRetries,
    });
  return { seen, client };
};

const tooManyRequests = (
  error: Record<string, string>,
  headers: Record<string, string> = {},
): Response =>
  new Response(JSON.stringify({ error: { type: "invalid_request_error", ...error } }), {
    status: 429,
    headers: { "content-type": "application/json", "request-id": "req_limit", ...headers },
  });

const RATE_LIMIT = {
  code: "rate_limit",
  message:
    "Request rate limit exceeded. Learn more about rate limits here https://stripe.com/docs/rate-limits.",
};

const failure = async (promise: Promise<unknown>): Promise<AppError> => {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    return error as AppError;
  }
  throw new Error("expected the call to fail");
};

/** Time that stands still; `sleep` records when the caller would wake. */
const stillTime = () => {
  const wakes: number[] = [];
  const time: PacerTime = {
    now: () => 0,
    sleep: async (ms) => {
      wakes.push(ms);
    },
  };
  return { time, wakes };
};

describe("a 429 from the processor", () => {
  it("becomes PAYMENT_PROVIDER_ERROR marked rateLimited, without SDK retries", async () => {
    const stripe = fakeStripe(() =>
      tooManyRequests(RATE_LIMIT, { "stripe-rate-limited-reason": "global-rate" }),
    );
    // Retries allowed: the SDK still sends a rate-limit 429 back at once.
    const processor = new StripeProcessor(stripe.client(2), EMULATOR_WEBHOOK_SECRET_DEFAULT);
    const error = await failure(
      processor.charge(
        { customerId: "cus_1", paymentMethodId: "pm_1", amount: 100, currency: "usd" },
        { idempotencyKey: "invoice-in_1-attempt-1" },
      ),
    );
    expect(stripe.seen).toEqual(["POST /v1/payment_intents"]);
    expect(error).toMatchObject({
      code: "PAYMENT_PROVIDER_ERROR",
      status: 502,
      details: {
        rateLimited: true,
        retryAfterMs: RATE_LIMIT_RETRY_AFTER_MS,
        type: "StripeRateLimitError",
        statusCode: 429,
        code: "rate_limit",
        reason: "global-rate",
      },
    });
    expect(rateLimitOf(error)).toEqual(error.details);

    // Reads map the same way.
    const read = await failure(processor.retrieveCustomer("cus_1"));
    expect(rateLimitOf(read)?.retryAfterMs).toBe(RATE_LIMIT_RETRY_AFTER_MS);
  });

  it("takes its wait from Retry-After when the processor sends one", async () => {
    const stripe = fakeStripe(() => tooManyRequests(RATE_LIMIT, { "retry-after": "3" }));
    const processor = new StripeProcessor(stripe.client(0), EMULATOR_WEBHOOK_SECRET_DEFAULT);
    const error = await failure(processor.createCustomer({ email: "a@example.com" }));
    expect(rateLimitOf(error)).toMatchObject({ retryAfterMs: 3_000, reason: null });
  });

  it("is retried by the SDK when Stripe marks it retryable (a lock timeout); the last one surfaces", async () => {
    const stripe = fakeStripe(() =>
      tooManyRequests(
        {
          code: "lock_timeout",
          message: "This object cannot be accessed right now because another API request ...",
        },
        { "stripe-should-retry": "true" },
      ),
    );
    const processor = new StripeProcessor(stripe.client(1), EMULATOR_WEBHOOK_SECRET_DEFAULT);
    const error = await failure(processor.updateCustomer("cus_1", { name: "x" }));
    expect(stripe.seen).toEqual(["POST /v1/customers/cus_1", "POST /v1/customers/cus_1"]);
    expect(rateLimitOf(error)).toMatchObject({ code: "lock_timeout", rateLimited: true });
  });

  it("holds the processor's writes back for the wait it names", async () => {
    let limited = true;
    const stripe = fakeStripe(() =>
      limited
        ? tooManyRequests(RATE_LIMIT)
        : new Response(
            JSON.stringify({
              id: "cus_2",
              object: "customer",
              created: 1,
              email: null,
              name: null,
              metadata: {},
              invoice_settings: { default_payment_method: null },
            }),
            { status: 200, headers: { "content-type": "application/json" } },
          ),
    );
    const t = stillTime();
    const pacer = new WritePacer({ perSecond: 20, burst: 5, time: t.time });
    const processor = new StripeProcessor(stripe.client(0), EMULATOR_WEBHOOK_SECRET_DEFAULT, {
      pacer,
    });
    await failure(processor.createCustomer({}));
    expect(t.wakes).toEqual([]);
    limited = false;
    await processor.createCustomer({});
    await processor.createCustomer({});
    // The bucket still had tokens, but after the 429 the next writes wait a second, then 50 ms.
    expect(t.wakes).toEqual([RATE_LIMIT_RETRY_AFTER_MS, RATE_LIMIT_RETRY_AFTER_MS + 50]);
  });

  it("is not confused with other processor failures", async () => {
    const stripe = fakeStripe(
      () =>
        new Response(JSON.stringify({ error: { type: "api_error", message: "boom" } }), {
          status: 500,
          headers: { "content-type": "application/json" },
        }),
    );
    const processor = new StripeProcessor(stripe.client(0), EMULATOR_WEBHOOK_SECRET_DEFAULT);
    const error = await failure(processor.retrieveCustomer("cus_1"));
    expect(error.code).toBe("PAYMENT_PROVIDER_ERROR");
    expect(rateLimitOf(error)).toBeUndefined();
    expect(rateLimitOf(new AppError("PAYMENT_FAILED", "declined"))).toBeUndefined();
    expect(rateLimitOf(new Error("x"))).toBeUndefined();
  });
});

const database = await createTestDatabase();
afterAll(() => database.close());

describe("the pacer against the emulator's limit (STRIPE_EMULATOR_RATE_LIMIT)", () => {
  const clock = new ManualClock("2026-06-01T00:00:00Z");
  const logger = pino({ level: "silent" });

  /** The processor as the service builds it, on the in-process emulator limited to 20 writes/s. */
  const processorWith = (env: Record<string, string>) =>
    createPaymentProcessor({
      config: loadConfig({ NODE_ENV: "test", STRIPE_EMULATOR_RATE_LIMIT: "20", ...env }),
      db: database.db,
      clock,
      logger,
    }).processor;

  /** `count` charges of one customer's card at once, as the worker's collectors send them. */
  const chargeBurst = async (processor: ReturnType<typeof processorWith>, count: number) => {
    const customer = await processor.createCustomer({ email: "burst@example.com" });
    const card = await processor.attachPaymentMethod("pm_card_visa", customer.id);
    const started = performance.now();
    const outcomes = await Promise.allSettled(
      Array.from({ length: count }, (_, i) =>
        processor.charge(
          { customerId: customer.id, paymentMethodId: card.id, amount: 500, currency: "usd" },
          { idempotencyKey: `burst-${customer.id}-${i}` },
        ),
      ),
    );
    return { outcomes, elapsedMs: performance.now() - started };
  };

  it("keeps a burst of 30 charges at 20/s under the limit: all paid, none refused", async () => {
    const processor = processorWith({ STRIPE_MAX_WRITES_PER_SECOND: "20" });
    const { outcomes, elapsedMs } = await chargeBurst(processor, 30);
    expect(outcomes.filter((o) => o.status === "rejected")).toEqual([]);
    expect(outcomes.map((o) => o.status === "fulfilled" && o.value.status)).toEqual(
      Array(30).fill("succeeded"),
    );
    // The two setup writes took the burst: the 30 charges go out 50 ms apart.
    expect(elapsedMs).toBeGreaterThanOrEqual(1_400);
  });

  it("paces a burst on one endpoint to that endpoint's rate, under a higher account rate", async () => {
    const processor = processorWith({
      STRIPE_MAX_WRITES_PER_SECOND: "100",
      STRIPE_MAX_WRITES_PER_SECOND_PER_ENDPOINT: "20",
    });
    const { outcomes, elapsedMs } = await chargeBurst(processor, 30);
    expect(outcomes.filter((o) => o.status === "rejected")).toEqual([]);
    // Creating PaymentIntents: two at once, then one per 50 ms.
    expect(elapsedMs).toBeGreaterThanOrEqual(1_350);
  });

  it("without pacing, the same burst meets 429s, reported as rate-limited", async () => {
    const processor = processorWith({ STRIPE_MAX_WRITES_PER_SECOND: "0" });
    const { outcomes } = await chargeBurst(processor, 40);
    const refused = outcomes.flatMap((o) => (o.status === "rejected" ? [o.reason] : []));
    expect(refused.length).toBeGreaterThan(0);
    for (const error of refused) {
      expect(rateLimitOf(error)).toMatchObject({ rateLimited: true, code: "rate_limit" });
    }
  });
});
