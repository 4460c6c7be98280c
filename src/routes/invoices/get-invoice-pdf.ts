import { createRoute, type RouteHandler } from "@hono/zod-openapi";
import type { AppEnv } from "../../http/env.ts";
import { bearerAuth, errorResponses } from "../../http/openapi.ts";
import { invoicePdf } from "../../services/documents/documents.ts";
import { pdfResponse } from "../document-schemas.ts";
import { IdParam } from "../schemas.ts";
import { pdfBody } from "./pdf-body.ts";

export const route = createRoute({
  method: "get",
  path: "/invoices/{id}/pdf",
  operationId: "getInvoicePdf",
  tags: ["Invoices"],
  summary: "Download a finalized invoice as a PDF",
  security: bearerAuth,
  request: { params: IdParam },
  responses: {
    200: pdfResponse("The invoice as a PDF (the same invoice always yields the same text)"),
    ...errorResponses(403, 404, 409),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) =>
  pdfBody(
    c,
    await invoicePdf({
      ctx: c.get("deps"),
      principal: c.get("principal"),
      input: { invoiceId: c.req.valid("param").id },
    }),
  );
