import { createRoute, type RouteHandler } from "@hono/zod-openapi";
import { platformScope } from "../../http/auth.ts";
import type { AppEnv } from "../../http/env.ts";
import { bearerAuth, errorResponses, jsonResponse } from "../../http/openapi.ts";
import { listCreditNotes } from "../../services/credit-notes/list-credit-notes.ts";
import { CreditNoteSchema } from "../document-schemas.ts";
import { Cursor, Limit, listOf, PlatformQuery } from "../schemas.ts";

export const route = createRoute({
  method: "get",
  path: "/credit-notes",
  operationId: "listCreditNotes",
  tags: ["Invoices"],
  summary: "List credit notes (cursor-paginated)",
  security: bearerAuth,
  request: { query: PlatformQuery.extend({ cursor: Cursor, limit: Limit }) },
  responses: {
    200: jsonResponse(listOf(CreditNoteSchema, "CreditNoteList"), "Credit notes, newest first"),
    ...errorResponses(403),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) => {
  const { platformId: requested, ...page } = c.req.valid("query");
  const platformId = platformScope(c, requested);
  return c.json(await listCreditNotes({ ctx: c.get("deps"), input: { platformId, ...page } }), 200);
};
