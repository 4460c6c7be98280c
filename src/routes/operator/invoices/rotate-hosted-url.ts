import { createRoute, type RouteHandler } from "@hono/zod-openapi";
import type { AppEnv } from "../../../http/env.ts";
import { bearerAuth, errorResponses, jsonResponse } from "../../../http/openapi.ts";
import { rotateHostedInvoiceUrl } from "../../../services/documents/documents.ts";
import { IdParam, InvoiceSchema } from "../../schemas.ts";

export const route = createRoute({
  method: "post",
  path: "/operator/invoices/{id}/hosted-url/rotate",
  operationId: "rotateHostedInvoiceUrl",
  tags: ["Operator"],
  summary: "Revoke an invoice's hosted URL and issue a new one",
  security: bearerAuth,
  request: { params: IdParam },
  responses: {
    200: jsonResponse(InvoiceSchema, "The invoice"),
    ...errorResponses(403, 404, 409),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) =>
  c.json(
    await rotateHostedInvoiceUrl({
      ctx: c.get("deps"),
      input: { invoiceId: c.req.valid("param").id },
    }),
    200,
  );
