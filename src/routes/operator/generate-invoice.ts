import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import type { AppEnv } from "../../http/env.ts";
import { bearerAuth, errorResponses, jsonBody, jsonResponse } from "../../http/openapi.ts";
import { generateInvoice } from "../../services/generate-invoice.ts";
import { Id, InvoiceSchema } from "../schemas.ts";

export const GenerateInvoiceBody = z
  .object({ customerId: Id, description: z.string().max(500).optional() })
  .strict()
  .openapi("GenerateInvoiceRequest");

export const route = createRoute({
  method: "post",
  path: "/operator/invoices/generate",
  operationId: "generateInvoice",
  tags: ["Operator"],
  summary: "Generate and finalize an invoice for a customer",
  security: bearerAuth,
  request: { body: jsonBody(GenerateInvoiceBody) },
  responses: {
    201: jsonResponse(InvoiceSchema, "The finalized invoice"),
    ...errorResponses(402, 403, 404, 409, 501),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) =>
  c.json(
    await generateInvoice({
      ctx: c.get("deps"),
      principal: c.get("principal"),
      input: c.req.valid("json"),
    }),
    201,
  );
