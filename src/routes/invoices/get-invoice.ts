import { createRoute, type RouteHandler } from "@hono/zod-openapi";
import { platformScope } from "../../http/auth.ts";
import type { AppEnv } from "../../http/env.ts";
import { bearerAuth, errorResponses, jsonResponse } from "../../http/openapi.ts";
import { getInvoice } from "../../services/invoicing.ts";
import { ActingPlatformQuery, IdParam, InvoiceSchema } from "../schemas.ts";

/**
 * The reference lists `GET /invoices/{id}` and `GET /invoices/{invoiceId}?platformId=`; they are
 * one route. `platformId` is optional: platform keys own the invoice, operators may name it.
 */
export const route = createRoute({
  method: "get",
  path: "/invoices/{id}",
  operationId: "getInvoice",
  tags: ["Invoices"],
  summary: "Get a single invoice with line items",
  security: bearerAuth,
  request: { params: IdParam, query: ActingPlatformQuery },
  responses: {
    200: jsonResponse(InvoiceSchema, "The invoice with its lines"),
    ...errorResponses(403, 404, 501),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) => {
  const { platformId } = c.req.valid("query");
  // A platform key naming another platform is 403, as on every route that takes `platformId`.
  if (platformId !== undefined) platformScope(c, platformId);
  const invoice = await getInvoice({
    ctx: c.get("deps"),
    principal: c.get("principal"),
    input: { invoiceId: c.req.valid("param").id, platformId },
  });
  return c.json(invoice, 200);
};
