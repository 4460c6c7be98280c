import { createRoute, type RouteHandler } from "@hono/zod-openapi";
import type { AppEnv } from "../../http/env.ts";
import { errorResponses } from "../../http/openapi.ts";
import {
  hostedInvoice,
  hostedInvoicePdf,
  hostedInvoicePortal,
} from "../../services/documents/documents.ts";
import { htmlResponse, pdfResponse, TokenParam } from "../document-schemas.ts";
import { pdfBody } from "../invoices/pdf-body.ts";
import { renderHostedPage } from "./hosted-page.ts";

export const pageRoute = createRoute({
  method: "get",
  path: "/documents/invoices/{token}",
  operationId: "getHostedInvoicePage",
  tags: ["Documents"],
  summary: "The hosted invoice page (no API key: the unguessable token is the credential)",
  request: { params: TokenParam },
  responses: { 200: htmlResponse("The invoice as a web page"), ...errorResponses(404) },
});

export const pageHandler: RouteHandler<typeof pageRoute, AppEnv> = async (c) => {
  const { token } = c.req.valid("param");
  const { model, payable } = await hostedInvoice({ ctx: c.get("deps"), input: { token } });
  c.header("cache-control", "private, no-store");
  c.header("x-robots-tag", "noindex");
  return c.html(renderHostedPage(model, { token, payable }), 200);
};

export const pdfRoute = createRoute({
  method: "get",
  path: "/documents/invoices/{token}/pdf",
  operationId: "getHostedInvoicePdf",
  tags: ["Documents"],
  summary: "The hosted invoice's PDF (the page's Download PDF link)",
  request: { params: TokenParam },
  responses: { 200: pdfResponse("The invoice as a PDF"), ...errorResponses(404) },
});

export const pdfHandler: RouteHandler<typeof pdfRoute, AppEnv> = async (c) =>
  pdfBody(c, await hostedInvoicePdf({ ctx: c.get("deps"), input: c.req.valid("param") }));

export const portalRoute = createRoute({
  method: "get",
  path: "/documents/invoices/{token}/portal",
  operationId: "openHostedInvoicePortal",
  tags: ["Documents"],
  summary: "From an open invoice's page to the customer portal (to update the card)",
  request: { params: TokenParam },
  responses: {
    303: { description: "Redirect to a new customer portal session" },
    ...errorResponses(404, 409, 502),
  },
});

export const portalHandler: RouteHandler<typeof portalRoute, AppEnv> = async (c) => {
  const { url } = await hostedInvoicePortal({ ctx: c.get("deps"), input: c.req.valid("param") });
  return c.redirect(url, 303);
};
