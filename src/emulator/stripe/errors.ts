import { stripeId } from "./stripe-ids.ts";

/**
 * Stripe's error objects. A handler throws `StripeApiError`; the app renders it as Stripe does,
 * `{ error: { type, code, message, param, ... } }` with the matching status, which is what the
 * SDKs turn into `StripeInvalidRequestError`, `StripeCardError`, `StripeIdempotencyError`, ...
 */
export type StripeErrorType =
  | "invalid_request_error"
  | "card_error"
  | "idempotency_error"
  | "api_error";

export interface StripeErrorBody {
  type: StripeErrorType;
  message: string;
  code?: string;
  param?: string;
  decline_code?: string;
  doc_url?: string;
  [extra: string]: unknown;
}

export class StripeApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: StripeErrorBody,
    /** Response headers that go with this error, e.g. `Stripe-Rate-Limited-Reason` on a 429. */
    readonly headers: Record<string, string> = {},
  ) {
    super(body.message);
    this.name = "StripeApiError";
  }
}

/**
 * Where Stripe's dashboard shows a request's log, as its errors' `request_log_url` gives it. The
 * emulator has no dashboard; the URL carries its own request id in Stripe's format, so logs and
 * support tickets can quote it. A request-less action (a portal form) gets a fresh id.
 */
export const requestLogUrl = (requestId: string | null): string =>
  `https://dashboard.stripe.com/test/logs/${requestId ?? stripeId("req")}`;

const docUrl = (code: string) => `https://stripe.com/docs/error-codes/${code.replaceAll("_", "-")}`;

export const invalidRequest = (
  message: string,
  opts: { param?: string; code?: string; status?: number } = {},
) =>
  new StripeApiError(opts.status ?? 400, {
    type: "invalid_request_error",
    message,
    ...(opts.code ? { code: opts.code, doc_url: docUrl(opts.code) } : {}),
    ...(opts.param ? { param: opts.param } : {}),
  });

/** Stripe's 404: `No such customer: 'cus_123'`, naming the parameter the id came in. */
export const resourceMissing = (what: string, id: string, param = "id") =>
  invalidRequest(`No such ${what}: '${id}'`, { code: "resource_missing", param, status: 404 });

export const missingParam = (param: string) =>
  invalidRequest(`Missing required param: ${param}.`, { code: "parameter_missing", param });

export const unknownParam = (param: string) =>
  invalidRequest(`Received unknown parameter: ${param}`, { code: "parameter_unknown", param });

export const invalidParam = (param: string, message: string, code = "parameter_invalid_string") =>
  invalidRequest(message, { code, param });

export const idempotencyError = (message: string) =>
  new StripeApiError(400, { type: "idempotency_error", message });

export const authenticationError = (message: string) =>
  new StripeApiError(401, { type: "invalid_request_error", message });

export const apiError = (message: string) =>
  new StripeApiError(500, { type: "api_error", message });

/**
 * Stripe's answer above its rate limit: 429 with an `invalid_request_error` of code
 * `rate_limit`, and a `Stripe-Rate-Limited-Reason` header saying which limiter refused. It sends
 * no `Retry-After` and no `Stripe-Should-Retry` (which it sets on lock timeouts), so the SDKs do
 * not retry it on their own.
 */
export const rateLimited = () =>
  new StripeApiError(
    429,
    {
      type: "invalid_request_error",
      code: "rate_limit",
      doc_url: docUrl("rate_limit"),
      message:
        "Request rate limit exceeded. Learn more about rate limits here https://stripe.com/docs/rate-limits.",
    },
    { "stripe-rate-limited-reason": "global-rate" },
  );
