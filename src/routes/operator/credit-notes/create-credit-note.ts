import { createRoute, type RouteHandler } from "@hono/zod-openapi";
import type { AppEnv } from "../../../http/env.ts";
import { bearerAuth, errorResponses, jsonBody, jsonResponse } from "../../../http/openapi.ts";
import { createCreditNote } from "../../../services/credit-notes/create-credit-note.ts";
import { CreateCreditNoteBody, CreditNoteSchema } from "../../document-schemas.ts";

export const route = createRoute({
  method: "post",
  path: "/operator/credit-notes",
  operationId: "createCreditNote",
  tags: ["Operator"],
  summary: "Issue a credit note against an open or paid invoice",
  description:
    "On an open invoice it lowers the amount due. On a paid invoice the amount splits into `refundAmount` (refunded to the card through the processor, idempotency key `credit-note-<id>-refund`) and `creditAmount` (added to the customer balance); by default as much as possible is refunded. The sum of an invoice's credit notes never exceeds its total. A refund the processor refuses leaves no credit note (409).",
  security: bearerAuth,
  request: { body: jsonBody(CreateCreditNoteBody) },
  responses: {
    201: jsonResponse(CreditNoteSchema, "The issued credit note"),
    ...errorResponses(403, 404, 409, 502),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) =>
  c.json(await createCreditNote({ ctx: c.get("deps"), input: c.req.valid("json") }), 201);
