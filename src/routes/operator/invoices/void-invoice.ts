import { createRoute, type RouteHandler } from "@hono/zod-openapi";
import type { AppEnv } from "../../../http/env.ts";
import { bearerAuth, errorResponses, jsonResponse } from "../../../http/openapi.ts";
import { voidOpenInvoice } from "../../../services/corrections/invoice-corrections.ts";
import { IdParam, InvoiceSchema } from "../../schemas.ts";

export const route = createRoute({
  method: "post",
  path: "/operator/invoices/{id}/void",
  operationId: "voidInvoice",
  tags: ["Operator"],
  summary: "Void an open invoice (collection stops, consumed credit returns to the balance)",
  security: bearerAuth,
  request: { params: IdParam },
  responses: {
    200: jsonResponse(InvoiceSchema, "The invoice"),
    ...errorResponses(403, 404, 409),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) =>
  c.json(
    await voidOpenInvoice({ ctx: c.get("deps"), input: { invoiceId: c.req.valid("param").id } }),
    200,
  );
