import { createRoute, type RouteHandler } from "@hono/zod-openapi";
import { notImplemented } from "../../errors.ts";
import { platformScope } from "../../http/auth.ts";
import type { AppEnv } from "../../http/env.ts";
import { bearerAuth, errorResponses, jsonResponse } from "../../http/openapi.ts";
import { Cursor, InvoiceSchema, Limit, listOf, PlatformQuery } from "../schemas.ts";

export const route = createRoute({
  method: "get",
  path: "/invoices",
  tags: ["Invoices"],
  summary: "List invoices (cursor-paginated)",
  security: bearerAuth,
  request: { query: PlatformQuery.extend({ cursor: Cursor, limit: Limit }) },
  responses: {
    200: jsonResponse(listOf(InvoiceSchema, "InvoiceList"), "Invoices, newest first"),
    ...errorResponses(403, 501),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = (c) => {
  platformScope(c, c.req.valid("query").platformId);
  throw notImplemented("listing invoices");
};
