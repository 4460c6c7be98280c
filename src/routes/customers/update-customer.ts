import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import type { AppEnv } from "../../http/env.ts";
import { bearerAuth, errorResponses, jsonBody, jsonResponse } from "../../http/openapi.ts";
import { updateCustomer } from "../../services/customers.ts";
import { AddressSchema, TaxIdSchema } from "../document-schemas.ts";
import { CustomerSchema, Email, IdParam, Metadata } from "../schemas.ts";

export const UpdateCustomerBody = z
  .object({
    email: Email.optional(),
    name: z.string().max(256).optional(),
    metadata: Metadata.optional(),
    address: AddressSchema.nullable().optional(),
    taxId: TaxIdSchema.nullable().optional(),
  })
  .strict()
  .openapi("UpdateCustomerRequest");

export const route = createRoute({
  method: "patch",
  path: "/customers/{id}",
  operationId: "updateCustomer",
  tags: ["Customers"],
  summary: "Update a Stripe customer",
  security: bearerAuth,
  request: { params: IdParam, body: jsonBody(UpdateCustomerBody) },
  responses: {
    200: jsonResponse(CustomerSchema, "The updated customer"),
    ...errorResponses(403, 404, 501, 502),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) =>
  c.json(
    await updateCustomer({
      ctx: c.get("deps"),
      principal: c.get("principal"),
      input: { customerId: c.req.valid("param").id, ...c.req.valid("json") },
    }),
    200,
  );
