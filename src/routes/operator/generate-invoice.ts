import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import { notImplemented } from "../../errors.ts";
import type { AppEnv } from "../../http/env.ts";
import { bearerAuth, errorResponses, jsonBody, jsonResponse } from "../../http/openapi.ts";
import { Id, InvoiceSchema } from "../schemas.ts";

export const GenerateInvoiceBody = z
  .object({ customerId: Id, description: z.string().max(500).optional() })
  .strict()
  .openapi("GenerateInvoiceRequest");

export const route = createRoute({
  method: "post",
  path: "/operator/invoices/generate",
  tags: ["Operator"],
  summary: "Generate and finalize an invoice for a customer",
  security: bearerAuth,
  request: { body: jsonBody(GenerateInvoiceBody) },
  responses: {
    201: jsonResponse(InvoiceSchema, "The finalized invoice"),
    ...errorResponses(402, 403, 404, 409, 501),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = () => {
  throw notImplemented("invoice generation");
};
