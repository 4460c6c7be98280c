import { createRoute, type RouteHandler } from "@hono/zod-openapi";
import type { AppEnv } from "../../../http/env.ts";
import { bearerAuth, errorResponses, jsonResponse } from "../../../http/openapi.ts";
import { markInvoiceUncollectible } from "../../../services/corrections/invoice-corrections.ts";
import { IdParam, InvoiceSchema } from "../../schemas.ts";

export const route = createRoute({
  method: "post",
  path: "/operator/invoices/{id}/mark-uncollectible",
  operationId: "markInvoiceUncollectible",
  tags: ["Operator"],
  summary: "Mark an open invoice uncollectible (collection stops)",
  security: bearerAuth,
  request: { params: IdParam },
  responses: {
    200: jsonResponse(InvoiceSchema, "The invoice"),
    ...errorResponses(403, 404, 409),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) =>
  c.json(
    await markInvoiceUncollectible({
      ctx: c.get("deps"),
      input: { invoiceId: c.req.valid("param").id },
    }),
    200,
  );
