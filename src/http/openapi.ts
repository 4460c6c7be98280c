import type { Hook, RouteConfig } from "@hono/zod-openapi";
import { z } from "@hono/zod-openapi";
import { type ErrorCode, errorStatus, invalid } from "../errors.ts";
import type { AppEnv } from "./env.ts";

export const ErrorSchema = z
  .object({
    error: z.object({
      code: z.enum(Object.keys(errorStatus) as [ErrorCode, ...ErrorCode[]]),
      message: z.string(),
      requestId: z.string(),
      details: z.unknown().openapi({ description: "zod issues for VALIDATION_ERROR, else null" }),
    }),
  })
  .openapi("Error");

const descriptions: Record<number, string> = {
  400: "Invalid request (VALIDATION_ERROR)",
  401: "Missing or invalid API key (UNAUTHORIZED)",
  402: "The payment was declined (PAYMENT_FAILED)",
  403: "The key may not act on this resource (FORBIDDEN)",
  404: "Not found (NOT_FOUND)",
  409: "Conflicts with the current state (CONFLICT)",
  413: "Body over 1 MiB (PAYLOAD_TOO_LARGE)",
  422: "Idempotency-Key reused with another request (IDEMPOTENCY_KEY_REUSED)",
  500: "Unexpected error (INTERNAL_ERROR)",
  501: "Not implemented yet (NOT_IMPLEMENTED)",
  502: "The payment processor failed (PAYMENT_PROVIDER_ERROR)",
  503: "The database is unreachable for now; retry after the Retry-After header's seconds (SERVICE_UNAVAILABLE)",
};

const errorContent = { "application/json": { schema: ErrorSchema } };

/**
 * Error responses for a route's spec: the given statuses plus those every route can answer (503
 * included: any of them can meet a database restart).
 */
export const errorResponses = (...statuses: number[]) => {
  const all = [...new Set([400, 401, 413, 422, 500, 503, ...statuses])].sort();
  return Object.fromEntries(
    all.map((status) => [
      status,
      { description: descriptions[status] ?? "Error", content: errorContent },
    ]),
  );
};

export const jsonBody = <T extends z.ZodType>(schema: T) => ({
  required: true,
  content: { "application/json": { schema } },
});

/**
 * The route as validated: its JSON body parsed synchronously. @hono/zod-validator calls
 * `safeParseAsync`, and in async mode zod does not use the code it compiles for object schemas:
 * validating a 500-event usage batch took ~3× as long (1.5 µs instead of 0.5 µs per event). No
 * request schema here has an async refinement (a synchronous parse would throw on one), so
 * results are the same. The schema itself is left as it is (the docs describe it): the validator
 * gets a view of it whose `safeParseAsync` is its `safeParse`, made for this route alone.
 */
export const withSynchronousBody = <R extends RouteConfig>(route: R): R => {
  const body = route.request?.body;
  const content = body?.content["application/json"];
  if (!body || !content || !("schema" in content) || !(content.schema instanceof z.ZodType)) {
    return route;
  }
  const schema = content.schema;
  const view = Object.create(schema, {
    safeParseAsync: {
      value: async (data: unknown, params?: Parameters<typeof schema.safeParse>[1]) =>
        schema.safeParse(data, params),
    },
  }) as typeof schema;
  return {
    ...route,
    request: {
      ...route.request,
      body: {
        ...body,
        content: { ...body.content, "application/json": { ...content, schema: view } },
      },
    },
  };
};

export const jsonResponse = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { "application/json": { schema } },
});

export const bearerAuth = [{ bearerAuth: [] }];

const integerHeader = (description: string) => ({
  description,
  schema: { type: "integer" as const },
});

/** The 429 every authenticated operation can answer (src/http/rate-limit.ts). */
export const rateLimitedResponse = {
  description:
    "Over the rate limit (RATE_LIMITED): the key's requests, or for usage batches the platform's events. Nothing was done.",
  headers: {
    "Retry-After": integerHeader("Seconds until the bucket holds enough tokens again"),
    "RateLimit-Limit": integerHeader("The bucket's size (burst)"),
    "RateLimit-Remaining": integerHeader("Whole tokens left"),
    "RateLimit-Reset": integerHeader("Seconds until the bucket is full again"),
    "RateLimit-Policy": {
      description: "`<burst>;w=<seconds an empty bucket takes to fill>`",
      schema: { type: "string" as const },
    },
  },
  content: errorContent,
};

/** Turns every failed zod validation into a VALIDATION_ERROR with the issues in `details`. */
export const validationHook: Hook<unknown, AppEnv, string, unknown> = (result) => {
  if (result.success) return;
  const where = result.target === "json" ? "body" : result.target;
  throw invalid(
    `invalid ${where}: ${result.error.issues
      .map((issue) => `${issue.path.join(".") || "(root)"}: ${issue.message}`)
      .slice(0, 5)
      .join("; ")}`,
    result.error.issues.map((issue) => ({ ...issue, in: where })),
  );
};
