import type { Context } from "hono";
import type { Logger } from "pino";
import type { Clock } from "../../clock.ts";
import type { Db } from "../../db/client.ts";
import { invalidParam, invalidRequest } from "./errors.ts";
import { type FormObject, parseFormEncoded } from "./form-encoding.ts";
import type { ApiResult, IdempotencyStore } from "./idempotency.ts";
import type { OperationContext } from "./operation-context.ts";
import { Params } from "./params.ts";
import type { WriteRateLimiter } from "./rate-limiter.ts";
import type { CreatedBounds } from "./store.ts";

export interface InvoiceSummary {
  id: string;
  number: string | null;
  status: string;
  total: number;
  currency: string;
  createdAt: string;
}

/** Everything the emulator's routes share, built once by `createStripeEmulator`. */
export interface EmulatorRuntime {
  db: Db;
  clock: Clock;
  /** The webhook delivery clock (see `StripeEmulatorOptions.deliveryClock`). */
  deliveryClock: Clock;
  apiVersion: string;
  webhooksEnabled: boolean;
  publicBaseUrl: string;
  idempotency: IdempotencyStore;
  listInvoices?: (customerId: string) => Promise<InvoiceSummary[]>;
  logger?: Logger;
  /** Called after a write committed, so queued events go out without waiting for a poll. */
  onCommitted: () => void;
  /** Refuses API writes above a set rate with Stripe's 429; none by default. */
  writeLimiter?: WriteRateLimiter;
  /** A portal session unused for this long has expired (see `openPortalSession`). */
  portalSessionTtlMs: number;
  /** The one secret key the API accepts; any `sk_test_...` when undefined. */
  apiKey?: string | undefined;
}

export interface EmulatorEnv {
  Variables: { runtime: EmulatorRuntime; requestId: string };
}

export type EmulatorContext = Context<EmulatorEnv>;

/** What an operation answers: an API object (200), or a status with a body (a card decline). */
export type OperationResult = { status: number; body: unknown } | object;

const isExplicit = (result: OperationResult): result is { status: number; body: unknown } =>
  "status" in result && typeof result.status === "number" && "body" in result;

/** A request's parameters: the form body of a POST, the query string otherwise. */
const readParams = async (c: EmulatorContext): Promise<FormObject> => {
  if (c.req.method === "POST") return parseFormEncoded(await c.req.text());
  const url = c.req.url;
  const query = url.indexOf("?");
  return query < 0 ? {} : parseFormEncoded(url.slice(query + 1));
};

/**
 * Runs one API operation: GETs read straight from the database; POSTs and DELETEs run in one
 * transaction, through the idempotency store when the request carries an `Idempotency-Key`.
 */
export const handle = async (
  c: EmulatorContext,
  operation: (ctx: OperationContext, params: Params) => Promise<OperationResult>,
): Promise<Response> => {
  const runtime = c.get("runtime");
  const raw = await readParams(c);
  const params = new Params(raw);
  const now = runtime.clock.now();
  const key = c.req.method === "POST" ? (c.req.header("idempotency-key") ?? null) : null;
  const makeContext = (tx: OperationContext["tx"]): OperationContext => ({
    tx,
    now,
    requestId: c.get("requestId"),
    idempotencyKey: key,
    webhooksEnabled: runtime.webhooksEnabled,
    queuedAt: runtime.deliveryClock.now(),
    apiVersion: runtime.apiVersion,
    objects: new Map(),
  });
  const execute = async (tx: OperationContext["tx"]): Promise<ApiResult> => {
    const result = await operation(makeContext(tx), params);
    const { status, body } = isExplicit(result) ? result : { status: 200, body: result };
    // Pretty-printed like Stripe's own responses, which people read with curl.
    return { status, body: JSON.stringify(body, null, 2) };
  };

  let result: ApiResult & { replayed?: boolean };
  if (c.req.method === "GET") {
    result = await execute(runtime.db);
  } else if (key !== null) {
    result = await runtime.idempotency.run(
      { key, method: c.req.method, path: c.req.path, params: raw, now },
      execute,
    );
  } else {
    result = await runtime.db.transaction((tx) => execute(tx));
  }
  if (c.req.method !== "GET" && !result.replayed) runtime.onCommitted();

  const headers: Record<string, string> = { "content-type": "application/json" };
  if (key !== null) headers["idempotency-key"] = key;
  if (result.replayed) headers["idempotent-replayed"] = "true";
  return c.body(result.body, result.status as 200, headers);
};

/**
 * Stripe's `created` list filter: `created=<unix seconds>` for one second, or a hash of bounds
 * `created[gt|gte|lt|lte]=<unix seconds>`.
 */
export const readCreatedFilter = (params: Params): CreatedBounds | undefined => {
  if (!params.has("created")) return undefined;
  if (!params.isHash("created")) return { eq: params.requiredInteger("created") };
  const bounds = params.hash("created") as Params;
  bounds.only("gt", "gte", "lt", "lte");
  const filter: CreatedBounds = {};
  for (const key of ["gt", "gte", "lt", "lte"] as const) {
    const value = bounds.integer(key);
    if (value !== undefined) filter[key] = value;
  }
  return filter;
};

/** Pagination parameters every list takes, checked as Stripe checks them. */
export const readListParams = (params: Params) => {
  const limit = params.integer("limit") ?? 10;
  if (limit < 1) {
    throw invalidParam(
      "limit",
      "This value must be greater than or equal to 1.",
      "parameter_invalid_integer",
    );
  }
  if (limit > 100) {
    throw invalidParam(
      "limit",
      "This value must be less than or equal to 100.",
      "parameter_invalid_integer",
    );
  }
  const startingAfter = params.string("starting_after") ?? undefined;
  const endingBefore = params.string("ending_before") ?? undefined;
  if (startingAfter !== undefined && endingBefore !== undefined) {
    throw invalidRequest(
      "You may only specify one of these parameters: ending_before, starting_after.",
      { param: "ending_before", code: "parameters_exclusive" },
    );
  }
  return { limit, startingAfter, endingBefore };
};
