import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import { notImplemented } from "../../errors.ts";
import type { AppEnv } from "../../http/env.ts";
import { bearerAuth, errorResponses, jsonBody, jsonResponse } from "../../http/openapi.ts";
import { CustomerSchema, Email, Metadata } from "../schemas.ts";

export const CreateCustomerBody = z
  .object({ email: Email, name: z.string().max(256).optional(), metadata: Metadata.optional() })
  .strict()
  .openapi("CreateCustomerRequest");

export const route = createRoute({
  method: "post",
  path: "/customers",
  tags: ["Customers"],
  summary: "Create a Stripe customer",
  security: bearerAuth,
  request: { body: jsonBody(CreateCustomerBody) },
  responses: {
    201: jsonResponse(CustomerSchema, "The new customer"),
    ...errorResponses(403, 501, 502),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = () => {
  throw notImplemented("creating customers");
};
