import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import type { AppEnv } from "../../http/env.ts";
import { bearerAuth, errorResponses, jsonBody, jsonResponse } from "../../http/openapi.ts";
import { createCustomer } from "../../services/customers.ts";
import { AddressSchema, TaxIdSchema } from "../document-schemas.ts";
import { CustomerSchema, Email, Metadata } from "../schemas.ts";

export const CreateCustomerBody = z
  .object({
    email: Email,
    name: z.string().max(256).optional(),
    metadata: Metadata.optional(),
    address: AddressSchema.optional(),
    taxId: TaxIdSchema.optional(),
  })
  .strict()
  .openapi("CreateCustomerRequest");

export const route = createRoute({
  method: "post",
  path: "/customers",
  operationId: "createCustomer",
  tags: ["Customers"],
  summary: "Create a Stripe customer",
  description:
    "Operator only: every platform already has its customer (`customerId`), created with the platform.",
  security: bearerAuth,
  request: { body: jsonBody(CreateCustomerBody) },
  responses: {
    201: jsonResponse(CustomerSchema, "The new customer"),
    ...errorResponses(403, 501, 502),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) => {
  const customer = await createCustomer({
    ctx: c.get("deps"),
    principal: c.get("principal"),
    input: { ...c.req.valid("json"), idempotencyKey: c.get("scopedIdempotencyKey") },
  });
  return c.json(customer, 201);
};
