import Stripe from "stripe";
import { AppError } from "../errors.ts";

/**
 * Maps what the processor says to the service's error codes: card declines are a 402 with the
 * decline code, unknown objects a 404, bad requests a 400, and anything about reaching or
 * trusting the processor a 502.
 */
export const fromStripeError = (error: unknown): AppError => {
  if (error instanceof AppError) return error;
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
