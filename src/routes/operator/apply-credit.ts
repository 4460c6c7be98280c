import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import type { AppEnv } from "../../http/env.ts";
import { bearerAuth, errorResponses, jsonBody, jsonResponse } from "../../http/openapi.ts";
import { applyCredit } from "../../services/credits.ts";
import { Id } from "../schemas.ts";

export const ApplyCreditBody = z
  .object({
    customerId: Id,
    amount: z
      .number()
      .gt(0)
      .max(1_000_000_000)
      .openapi({ description: "major units: 12.5 is $12.50", example: 12.5 }),
    currency: z
      .string()
      .length(3)
      .regex(/^[A-Za-z]{3}$/, "a 3-letter ISO currency code")
      .default("usd"),
    description: z.string().min(1).max(500),
  })
  .strict()
  .openapi("ApplyCreditRequest");

export const route = createRoute({
  method: "post",
  path: "/operator/credits",
  operationId: "applyCredit",
  tags: ["Operator"],
  summary: "Apply a credit to a customer",
  security: bearerAuth,
  request: { body: jsonBody(ApplyCreditBody) },
  responses: {
    200: jsonResponse(
      z
        .object({ customerId: z.string(), balance: z.number().int(), currency: z.string() })
        .openapi("CustomerBalance"),
      "The customer's new balance, minor units",
    ),
    ...errorResponses(403, 404, 501),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) =>
  c.json(
    await applyCredit({
      ctx: c.get("deps"),
      principal: c.get("principal"),
      input: c.req.valid("json"),
    }),
    200,
  );
