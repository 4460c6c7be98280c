import { createMiddleware } from "hono/factory";
import { newId } from "../ids.ts";
import type { AppEnv } from "./env.ts";

const acceptable = /^[A-Za-z0-9._:-]{1,128}$/;

/** Echoes a sane caller-sent `x-request-id`, or makes one; every response carries it. */
export const requestId = createMiddleware<AppEnv>(async (c, next) => {
  const sent = c.req.header("x-request-id");
  const id = sent && acceptable.test(sent) ? sent : newId("req");
  c.set("requestId", id);
  c.header("x-request-id", id);
  await next();
  c.res.headers.set("x-request-id", id);
});
