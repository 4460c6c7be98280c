import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { isConnectionFailure } from "../db/errors.ts";
import { AppError, type ErrorCode, errorStatus } from "../errors.ts";
import { newId } from "../ids.ts";
import type { AppEnv } from "./env.ts";

export interface ErrorBody {
  error: { code: ErrorCode; message: string; requestId: string; details: unknown };
}

/**
 * Seconds a client should wait before retrying a 503. A database restart or failover takes a
 * few seconds; retrying sooner only adds load to one coming back up.
 */
export const RETRY_AFTER_SECONDS = 5;

export const errorResponse = (
  c: Context<AppEnv>,
  code: ErrorCode,
  message: string,
  details: unknown = null,
) => {
  let requestId = c.get("requestId");
  if (!requestId) {
    requestId = newId("req");
    c.set("requestId", requestId);
  }
  const body: ErrorBody = { error: { code, message, requestId, details } };
  const headers: Record<string, string> = { "x-request-id": requestId };
  // Every 503 is temporary by definition: say when to come back (RFC 9110 §10.2.3).
  if (code === "SERVICE_UNAVAILABLE") headers["retry-after"] = String(RETRY_AFTER_SECONDS);
  return c.json(body, errorStatus[code], headers);
};

/**
 * A request that failed because the database could not be reached (restart, failover, network
 * cut): nothing is wrong with the request or the service's code, and the same request will work
 * once the database is back, so it is a 503 with Retry-After, logged as a warning.
 */
const databaseUnavailable = (error: Error, c: Context<AppEnv>) => {
  c.get("deps")?.logger.warn(
    { err: error, requestId: c.get("requestId"), method: c.req.method, path: c.req.path },
    "database unavailable",
  );
  return errorResponse(
    c,
    "SERVICE_UNAVAILABLE",
    "the database is temporarily unavailable; retry after the Retry-After delay",
  );
};

/** Statuses Hono and its middleware raise on their own, mapped onto our codes. */
const fromHttpException = (error: HTTPException): { code: ErrorCode; message: string } => {
  switch (error.status) {
    case 400:
      return { code: "VALIDATION_ERROR", message: error.message || "Bad request" };
    case 401:
      return { code: "UNAUTHORIZED", message: error.message || "Unauthorized" };
    case 404:
      return { code: "NOT_FOUND", message: error.message || "Not found" };
    case 413:
      return { code: "PAYLOAD_TOO_LARGE", message: "request body exceeds 1 MiB" };
    case 415:
      return { code: "VALIDATION_ERROR", message: "request body must be application/json" };
    default:
      return error.status < 500
        ? { code: "VALIDATION_ERROR", message: error.message || "Bad request" }
        : { code: "INTERNAL_ERROR", message: "An unexpected error occurred" };
  }
};

/**
 * The single `onError`: domain codes keep their code; a lost database is a 503; anything else
 * unexpected is a logged 500.
 */
export const handleError = (error: Error, c: Context<AppEnv>) => {
  if (error instanceof AppError) return errorResponse(c, error.code, error.message, error.details);
  if (error instanceof HTTPException) {
    const mapped = fromHttpException(error);
    if (mapped.code !== "INTERNAL_ERROR") return errorResponse(c, mapped.code, mapped.message);
  }
  if (isConnectionFailure(error)) return databaseUnavailable(error, c);
  c.get("deps")?.logger.error(
    { err: error, requestId: c.get("requestId"), method: c.req.method, path: c.req.path },
    "unhandled error",
  );
  return errorResponse(c, "INTERNAL_ERROR", "An unexpected error occurred");
};

export const handleNotFound = (c: Context<AppEnv>) =>
  errorResponse(c, "NOT_FOUND", `no route for ${c.req.method} ${c.req.path}`);
