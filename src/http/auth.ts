import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { AppError, forbidden } from "../errors.ts";
import { authenticate } from "../services/api-keys.ts";
import { actingPlatform } from "../services/principal.ts";
import type { AppEnv } from "./env.ts";

/** Strips the `/api/billing` mount so policies see one path per route. */
export const routePathOf = (path: string) => path.replace(/^\/api\/billing(?=\/|$)/, "") || "/";

const usageIngestion = (c: Context<AppEnv>) =>
  c.req.method === "POST" && routePathOf(c.req.path) === "/usage/events";

/**
 * Authenticates `Authorization: Bearer <key>` and applies the coarse policy: `/operator/*` is
 * for the operator key only, service keys may only ingest usage. Per-platform checks happen in
 * the handlers through `platformScope`.
 */
export const requireAuth = createMiddleware<AppEnv>(async (c, next) => {
  const header = c.req.header("authorization");
  const match = header?.match(/^Bearer\s+(\S+)\s*$/i);
  if (!match?.[1]) {
    throw new AppError("UNAUTHORIZED", "missing API key: send 'Authorization: Bearer <key>'");
  }
  const deps = c.get("deps");
  const principal = await authenticate({
    ctx: deps,
    token: match[1],
    operatorKey: deps.operatorKey,
  });
  if (!principal) throw new AppError("UNAUTHORIZED", "invalid or revoked API key");
  c.set("principal", principal);

  if (principal.kind !== "operator" && routePathOf(c.req.path).startsWith("/operator")) {
    throw forbidden("operator routes need the operator key");
  }
  if (principal.kind === "service" && !usageIngestion(c)) {
    throw forbidden("a usage:write service key may only ingest usage events");
  }
  await next();
});

/**
 * The platform a request acts on (`actingPlatform`): the operator names one with `platformId`
 * (query) or the `X-Platform-Id` header; a platform key acts on its own.
 */
export const platformScope = (c: Context<AppEnv>, requested?: string | undefined): string => {
  const principal = c.get("principal");
  return actingPlatform(
    principal,
    principal.kind === "operator" ? (requested ?? c.req.header("x-platform-id")) : requested,
  );
};
