import Stripe from "stripe";
import { afterAll } from "vitest";
import { ManualClock } from "../src/clock.ts";
import {
  createStripeEmulator,
  type StripeEmulator,
  type StripeEmulatorOptions,
} from "../src/emulator/stripe/index.ts";
import { createTestDatabase } from "./test-database.ts";

/**
 * For the Stripe emulator's own tests (beside it in src/emulator/stripe): an emulator and an SDK
 * on a test database.
 */
export const TEST_WEBHOOK_SECRET = "whsec_test_emulator_secret";
export const TEST_PUBLIC_BASE_URL = "http://billing.test/emulator/stripe";

/** The official SDK, reaching the emulator in-process through its `fetch`. */
export const sdkFor = (emulator: Pick<StripeEmulator, "fetch">, key = "sk_test_emulator") =>
  new Stripe(key, {
    apiVersion: Stripe.API_VERSION,
    httpClient: Stripe.createFetchHttpClient((url, init) => emulator.fetch(new Request(url, init))),
    maxNetworkRetries: 0,
  });

export const useEmulator = async (
  opts: Partial<Omit<StripeEmulatorOptions, "db" | "clock">> & { start?: Date | string } = {},
) => {
  const database = await createTestDatabase();
  const clock = new ManualClock(opts.start ?? "2026-03-01T09:00:00.000Z");
  const emulator = createStripeEmulator({
    webhookSecret: TEST_WEBHOOK_SECRET,
    publicBaseUrl: TEST_PUBLIC_BASE_URL,
    ...opts,
    db: database.db,
    clock,
  });
  afterAll(async () => {
    await emulator.stopDelivery();
    await database.close();
  });
  return { database, clock, emulator, stripe: sdkFor(emulator) };
};

/** Runs `fn` expecting a Stripe error; returns it for assertions (fails if nothing is thrown). */
export const stripeError = async (fn: () => Promise<unknown>) => {
  try {
    await fn();
  } catch (error) {
    if (error instanceof Stripe.errors.StripeError) return error;
    throw error;
  }
  throw new Error("expected a Stripe error, but the call succeeded");
};
