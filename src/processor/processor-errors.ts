import Stripe from "stripe";
import { AppError } from "../errors.ts";

/**
 * How long to wait after a 429 when the processor does not say. Stripe documents no
 * `Retry-After` and asks for an exponential backoff starting at about a second.
 */
export const RATE_LIMIT_RETRY_AFTER_MS = 1_000;

/**
 * `details` of the error a 429 from the processor becomes: a `PAYMENT_PROVIDER_ERROR` like any
 * other trouble with the processor, but marked, so that a caller can tell "too many requests,
 * try again in `retryAfterMs`" from an outage or a decline.
 */
export interface RateLimitedDetails {
  rateLimited: true;
  retryAfterMs: number;
  type: string;
  statusCode: 429;
  /** Stripe's error code: `rate_limit`, or `lock_timeout` for an object busy with another request. */
  code: string | null;
  /** Stripe's `Stripe-Rate-Limited-Reason` header (`global-rate`, `endpoint-rate`, ...). */
  reason: string | null;
}

const isRateLimit = (error: Stripe.errors.StripeError) =>
  error instanceof Stripe.errors.StripeRateLimitError || error.statusCode === 429;

/** A `Retry-After` of delta-seconds, in milliseconds; undefined when absent or not a number. */
const retryAfterMsOf = (headers: Record<string, string> | undefined): number | undefined => {
  const value = headers?.["retry-after"];
  if (value === undefined) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.ceil(seconds * 1000);
  return undefined;
};

const rateLimited = (error: Stripe.errors.StripeError): AppError => {
  const details: RateLimitedDetails = {
    rateLimited: true,
    retryAfterMs: retryAfterMsOf(error.headers) ?? RATE_LIMIT_RETRY_AFTER_MS,
    type: error.type,
    statusCode: 429,
    code: error.code ?? null,
    reason: error.headers?.["stripe-rate-limited-reason"] ?? null,
  };
  return new AppError(
    "PAYMENT_PROVIDER_ERROR",
    "the payment processor is limiting the request rate; try again shortly",
    details,
  );
};

/**
 * The details of a processor rate-limit error (see `RateLimitedDetails`), or undefined for any
 * other error: collection reschedules such an attempt after `retryAfterMs` without counting it.
 */
export const rateLimitOf = (error: unknown): RateLimitedDetails | undefined => {
  if (!(error instanceof AppError) || error.code !== "PAYMENT_PROVIDER_ERROR") return undefined;
  const details = error.details as Partial<RateLimitedDetails> | null;
  return details?.rateLimited === true ? (details as RateLimitedDetails) : undefined;
};

/**
 * Maps what the processor says to the service's error codes: card declines are a 402 with the
 * decline code, unknown objects a 404, bad requests a 400, a rate limit a 502 marked
 * `rateLimited`, and anything else about reaching or trusting the processor a 502.
 */
export const fromStripeError = (error: unknown): AppError => {
  if (error instanceof AppError) return error;
  if (error instanceof Stripe.errors.StripeError && isRateLimit(error)) return rateLimited(error);
  if (error instanceof Stripe.errors.StripeCardError) {
    return new AppError("PAYMENT_FAILED", error.message || "the card was declined", {
      code: error.code ?? "card_declined",
      declineCode: error.decline_code ?? null,
      paymentIntentId: (error.payment_intent as { id?: string } | undefined)?.id ?? null,
    });
  }
  if (error instanceof Stripe.errors.StripeInvalidRequestError) {
    if (error.statusCode === 404 || error.code === "resource_missing") {
      return new AppError("NOT_FOUND", error.message || "no such object at the processor", {
        param: error.param ?? null,
      });
    }
    if (error.type === "StripeIdempotencyError") {
      return new AppError("IDEMPOTENCY_KEY_REUSED", error.message);
    }
    return new AppError("VALIDATION_ERROR", error.message || "the processor refused the request", {
      param: error.param ?? null,
      code: error.code ?? null,
    });
  }
  if (error instanceof Stripe.errors.StripeIdempotencyError) {
    return new AppError("IDEMPOTENCY_KEY_REUSED", error.message);
  }
  if (error instanceof Stripe.errors.StripeError) {
    return new AppError(
      "PAYMENT_PROVIDER_ERROR",
      "the payment processor could not complete the request",
      { type: error.type, statusCode: error.statusCode ?? null },
    );
  }
  return new AppError("PAYMENT_PROVIDER_ERROR", "the payment processor could not be reached");
};

/** Runs a processor call, translating its failures. */
export const viaProcessor = async <T>(call: () => Promise<T>): Promise<T> => {
  try {
    return await call();
  } catch (error) {
    throw fromStripeError(error);
  }
};
