import { createRoute, type RouteHandler } from "@hono/zod-openapi";
import type { AppEnv } from "../../http/env.ts";
import { bearerAuth, errorResponses, jsonResponse } from "../../http/openapi.ts";
import { getCreditNote } from "../../services/credit-notes/list-credit-notes.ts";
import { CreditNoteSchema } from "../document-schemas.ts";
import { IdParam } from "../schemas.ts";

export const route = createRoute({
  method: "get",
  path: "/credit-notes/{id}",
  operationId: "getCreditNote",
  tags: ["Invoices"],
  summary: "Get a credit note",
  security: bearerAuth,
  request: { params: IdParam },
  responses: {
    200: jsonResponse(CreditNoteSchema, "The credit note"),
    ...errorResponses(403, 404),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) =>
  c.json(
    await getCreditNote({
      ctx: c.get("deps"),
      principal: c.get("principal"),
      input: { creditNoteId: c.req.valid("param").id },
    }),
    200,
  );
