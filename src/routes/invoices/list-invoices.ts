import { createRoute, type RouteHandler } from "@hono/zod-openapi";
import { platformScope } from "../../http/auth.ts";
import type { AppEnv } from "../../http/env.ts";
import { bearerAuth, errorResponses, jsonResponse } from "../../http/openapi.ts";
import { listInvoices } from "../../services/invoicing.ts";
import { Cursor, InvoiceSchema, Limit, listOf, PlatformQuery } from "../schemas.ts";

export const route = createRoute({
  method: "get",
  path: "/invoices",
  operationId: "listInvoices",
  tags: ["Invoices"],
  summary: "List invoices (cursor-paginated)",
  security: bearerAuth,
  request: { query: PlatformQuery.extend({ cursor: Cursor, limit: Limit }) },
  responses: {
    200: jsonResponse(listOf(InvoiceSchema, "InvoiceList"), "Invoices, newest first"),
    ...errorResponses(403, 501),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) => {
  const { platformId: requested, ...page } = c.req.valid("query");
  const platformId = platformScope(c, requested);
  return c.json(await listInvoices({ ctx: c.get("deps"), input: { platformId, ...page } }), 200);
};
