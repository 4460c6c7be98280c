import Stripe from "stripe";

/** The Stripe API version this service is written against; pinned, never "latest at runtime". */
export const STRIPE_API_VERSION = Stripe.API_VERSION as Stripe.LatestApiVersion;

/** The key the SDK presents to the built-in emulator (it accepts any `sk_test_` key). */
export const EMULATOR_SECRET_KEY = "sk_test_nno_emulator";

export type FetchFn = (request: Request) => Promise<Response>;

/**
 * Builds the official SDK client. Where it sends requests is the only thing that differs between
 * production and offline use:
 * - `inProcess`: requests go straight into the emulator's fetch handler (the embedded default);
 * - `apiBase`: a Stripe-compatible host, e.g. the emulator run standalone;
 * - neither: api.stripe.com.
 *
 * `maxNetworkRetries` (2 by default) lets the SDK retry, with its own backoff (0.5 s doubling,
 * at most 5 s) and the same idempotency key, what is safe and likely to pass: connection errors,
 * 409s, 5xx, and 429s that Stripe marks `Stripe-Should-Retry: true` (an object lock timeout).
 * A rate-limit 429 carries no such mark, so the SDK does not retry it: it surfaces at once as the
 * rate-limited error (`processor-errors.ts`), and the pacer and the caller decide when to try
 * again instead of the SDK adding requests to an account that is already over its limit.
 */
export const createStripeClient = (opts: {
  secretKey: string;
  apiBase?: string | undefined;
  inProcess?: FetchFn | undefined;
  maxNetworkRetries?: number;
}): Stripe => {
  const config: Stripe.StripeConfig = {
    apiVersion: STRIPE_API_VERSION,
    maxNetworkRetries: opts.maxNetworkRetries ?? 2,
    timeout: 20_000,
    appInfo: { name: "nno-billing" },
  };
  if (opts.inProcess) {
    const handler = opts.inProcess;
    config.httpClient = Stripe.createFetchHttpClient((input, init) =>
      handler(new Request(input as string | URL, init as RequestInit)),
    );
  } else if (opts.apiBase) {
    const base = new URL(opts.apiBase);
    config.host = base.hostname;
    config.protocol = base.protocol === "http:" ? "http" : "https";
    config.port = base.port || (base.protocol === "http:" ? 80 : 443);
    config.httpClient = Stripe.createFetchHttpClient();
  }
  return new Stripe(opts.secretKey, config);
};
