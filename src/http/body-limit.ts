import { bodyLimit } from "hono/body-limit";
import { createMiddleware } from "hono/factory";
import { AppError } from "../errors.ts";
import type { AppEnv } from "./env.ts";

/**
 * Refuses request bodies over `maxSize` bytes with 413 PAYLOAD_TOO_LARGE.
 *
 * Hono's `bodyLimit` reads `c.req.raw.body` on every request, which makes the Node adapter build
 * a full WHATWG `Request` (with an `AbortSignal` the runtime tracks weakly) even for a GET.
 * Those objects outlive a young-generation GC, so at a thousand requests a second they fill the
 * old generation and bring on major GCs that stall every request in flight. Here a GET costs
 * nothing, a body that declares its length is judged by the header (Node's parser never reads
 * past it), and only a body of unknown length (chunked, or an in-process `Request`) goes through
 * Hono's streaming count.
 */
export const limitBodySize = (maxSize: number) => {
  const tooLarge = () => {
    throw new AppError("PAYLOAD_TOO_LARGE", `request body exceeds ${maxSize / 1024 / 1024} MiB`);
  };
  const streaming = bodyLimit({ maxSize, onError: tooLarge });
  return createMiddleware<AppEnv>(async (c, next) => {
    const chunked = c.req.header("transfer-encoding") !== undefined;
    const length = c.req.header("content-length");
    if (!chunked && length !== undefined) {
      if (Number(length) > maxSize) tooLarge();
      return next();
    }
    if (c.req.method === "GET" || c.req.method === "HEAD") return next();
    return streaming(c, next);
  });
};
