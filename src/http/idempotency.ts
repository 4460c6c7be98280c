import { createHash } from "node:crypto";
import { createMiddleware } from "hono/factory";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { invalid } from "../errors.ts";
import {
  claimIdempotencyKey,
  completeIdempotencyKey,
  releaseIdempotencyKey,
} from "../services/idempotency.ts";
import { routePathOf } from "./auth.ts";
import type { AppEnv } from "./env.ts";

const mutating = new Set(["POST", "PATCH", "DELETE"]);

/**
 * `Idempotency-Key` on POST/PATCH/DELETE (DESIGN §4): the first response (below 500, except 429) is stored for
 * 24 hours and replayed with its status and body; the same key with another request is a 422; a
 * duplicate that arrives while the first is running is a 409. Keys are scoped to the caller.
 */
export const idempotency = createMiddleware<AppEnv>(async (c, next) => {
  const key = c.req.header("idempotency-key");
  if (key === undefined || !mutating.has(c.req.method)) return next();
  if (key.length < 1 || key.length > 255) {
    throw invalid("Idempotency-Key must be 1 to 255 characters", [
      { path: ["Idempotency-Key"], message: "1 to 255 characters" },
    ]);
  }
  const ctx = c.get("deps");
  const principal = c.get("principal");
  // The effective platform is part of the scope: the operator's requests for two platforms
  // never share a record, whichever way the platform is named.
  const scope =
    principal.kind === "operator"
      ? `operator:${c.req.header("x-platform-id") ?? ""}`
      : principal.kind === "platform"
        ? `platform:${principal.platformId}`
        : `key:${principal.keyId}`;
  c.set(
    "scopedIdempotencyKey",
    createHash("sha256").update(`${scope}\n${key}`).digest("base64url").slice(0, 32),
  );
  const body = await c.req.text();
  const fingerprint = createHash("sha256")
    .update(`${c.req.method} ${routePathOf(c.req.path)}${new URL(c.req.url).search}\n${body}`)
    .digest("hex");

  const claim = await claimIdempotencyKey({ ctx, input: { scope, key, fingerprint } });
  if (claim.kind === "replay") {
    // Through the context, so headers set before this (the rate limit's) are kept.
    return c.body(claim.body, claim.status as ContentfulStatusCode, {
      "content-type": "application/json",
      "idempotent-replayed": "true",
      "x-request-id": c.get("requestId"),
    });
  }

  try {
    await next();
  } catch (error) {
    await releaseIdempotencyKey({ ctx, input: { scope, key } });
    throw error;
  }
  // A 429 (a usage batch over its platform's event budget) did nothing: like a 5xx, it is not
  // kept, so the same key may be retried once the budget allows (Stripe keeps neither).
  if (c.res.status >= 500 || c.res.status === 429) {
    await releaseIdempotencyKey({ ctx, input: { scope, key } });
    return;
  }
  const responseBody = await c.res.clone().text();
  await completeIdempotencyKey({
    ctx,
    input: { scope, key, status: c.res.status, body: responseBody },
  });
});
