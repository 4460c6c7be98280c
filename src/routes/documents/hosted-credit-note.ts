import { createRoute, type RouteHandler } from "@hono/zod-openapi";
import type { AppEnv } from "../../http/env.ts";
import { errorResponses } from "../../http/openapi.ts";
import { hostedCreditNote, hostedCreditNotePdf } from "../../services/documents/documents.ts";
import { htmlResponse, pdfResponse, TokenParam } from "../document-schemas.ts";
import { pdfBody } from "../invoices/pdf-body.ts";
import { renderHostedPage } from "./hosted-page.ts";

export const pageRoute = createRoute({
  method: "get",
  path: "/documents/credit-notes/{token}",
  operationId: "getHostedCreditNotePage",
  tags: ["Documents"],
  summary: "The hosted credit note page (no API key: the unguessable token is the credential)",
  request: { params: TokenParam },
  responses: { 200: htmlResponse("The credit note as a web page"), ...errorResponses(404) },
});

export const pageHandler: RouteHandler<typeof pageRoute, AppEnv> = async (c) => {
  const { token } = c.req.valid("param");
  const { model, payable } = await hostedCreditNote({ ctx: c.get("deps"), input: { token } });
  c.header("cache-control", "private, no-store");
  c.header("x-robots-tag", "noindex");
  return c.html(renderHostedPage(model, { token, payable }), 200);
};

export const pdfRoute = createRoute({
  method: "get",
  path: "/documents/credit-notes/{token}/pdf",
  operationId: "getHostedCreditNotePdf",
  tags: ["Documents"],
  summary: "The hosted credit note's PDF (the page's Download PDF link)",
  request: { params: TokenParam },
  responses: { 200: pdfResponse("The credit note as a PDF"), ...errorResponses(404) },
});

export const pdfHandler: RouteHandler<typeof pdfRoute, AppEnv> = async (c) =>
  pdfBody(c, await hostedCreditNotePdf({ ctx: c.get("deps"), input: c.req.valid("param") }));
