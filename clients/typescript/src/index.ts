import createClient, { type Client } from "openapi-fetch";
import type { components, operations, paths } from "./schema.d.ts";

export type { components, operations, paths };

/** The request and response bodies the service documents (`Plan`, `Subscription`, `Error`, …). */
export type Schemas = components["schemas"];

/** Every error body: `{error: {code, message, requestId, details}}`. */
export type BillingError = Schemas["Error"];

/** One of the service's error codes (`VALIDATION_ERROR`, `NOT_FOUND`, …). */
export type BillingErrorCode = BillingError["error"]["code"];

export type BillingClient = Client<paths>;

export interface BillingClientOptions {
  /**
   * Where the service answers, with its prefix if any: `https://billing.example` or
   * `https://api.example/api/billing` (both are servers of the document).
   */
  baseUrl: string;
  /** The operator key, a platform key (`nno_sk_…`) or a `usage:write` key (`nno_ik_…`). */
  apiKey: string;
  /** A fetch implementation (defaults to the global one). */
  fetch?: typeof globalThis.fetch;
  /** Extra headers sent with every request. */
  headers?: Record<string, string>;
}

/**
 * A typed client of the billing API (openapi-fetch over the generated `paths`): every call is
 * checked against the service's own OpenAPI document, and answers `{data}` on success or
 * `{error}` (a `BillingError`) otherwise, with the `response`.
 */
export const createBillingClient = (options: BillingClientOptions): BillingClient =>
  createClient<paths>({
    baseUrl: options.baseUrl,
    headers: { ...options.headers, authorization: `Bearer ${options.apiKey}` },
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
