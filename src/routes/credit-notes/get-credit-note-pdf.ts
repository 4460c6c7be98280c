import { createRoute, type RouteHandler } from "@hono/zod-openapi";
import type { AppEnv } from "../../http/env.ts";
import { bearerAuth, errorResponses } from "../../http/openapi.ts";
import { creditNotePdf } from "../../services/documents/documents.ts";
import { pdfResponse } from "../document-schemas.ts";
import { pdfBody } from "../invoices/pdf-body.ts";
import { IdParam } from "../schemas.ts";

export const route = createRoute({
  method: "get",
  path: "/credit-notes/{id}/pdf",
  operationId: "getCreditNotePdf",
  tags: ["Invoices"],
  summary: "Download a credit note as a PDF",
  security: bearerAuth,
  request: { params: IdParam },
  responses: {
    200: pdfResponse("The credit note as a PDF"),
    ...errorResponses(403, 404),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) =>
  pdfBody(
    c,
    await creditNotePdf({
      ctx: c.get("deps"),
      principal: c.get("principal"),
      input: { creditNoteId: c.req.valid("param").id },
    }),
  );
