import { createRoute, type RouteHandler } from "@hono/zod-openapi";
import type { AppEnv } from "../../../http/env.ts";
import { bearerAuth, errorResponses, jsonResponse } from "../../../http/openapi.ts";
import type { ServiceContext } from "../../../services/context.ts";
import type { Invoice } from "../../../services/invoicing.ts";
import { IdParam, InvoiceSchema } from "../../schemas.ts";

/**
 * An operator action on one invoice (`POST /operator/invoices/{id}/<action>`): no body, the
 * invoice as it is afterwards, 409 when its state does not allow the action.
 */
export const invoiceAction = (opts: {
  action: string;
  operationId: string;
  summary: string;
  run: (args: { ctx: ServiceContext; input: { invoiceId: string } }) => Promise<Invoice>;
}) => {
  const route = createRoute({
    method: "post",
    path: `/operator/invoices/{id}/${opts.action}`,
    operationId: opts.operationId,
    tags: ["Operator"],
    summary: opts.summary,
    security: bearerAuth,
    request: { params: IdParam },
    responses: {
      200: jsonResponse(InvoiceSchema, "The invoice"),
      ...errorResponses(403, 404, 409),
    },
  });
  const handler: RouteHandler<typeof route, AppEnv> = async (c) =>
    c.json(
      await opts.run({ ctx: c.get("deps"), input: { invoiceId: c.req.valid("param").id } }),
      200,
    );
  return { route, handler };
};
