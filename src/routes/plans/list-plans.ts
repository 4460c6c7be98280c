import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import { describePlan } from "../../billing/plan-catalog.ts";
import type { AppEnv } from "../../http/env.ts";
import { bearerAuth, errorResponses, jsonResponse } from "../../http/openapi.ts";
import { PlanSchema } from "../schemas.ts";

export const route = createRoute({
  method: "get",
  path: "/plans",
  operationId: "listPlans",
  tags: ["Plans"],
  summary: "List available billing plans",
  description: "Every tier with its monthly and yearly prices, included quantities and overage.",
  security: bearerAuth,
  responses: {
    200: jsonResponse(z.array(PlanSchema), "The plan catalog"),
    ...errorResponses(403),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = (c) => {
  const { catalog } = c.get("deps");
  return c.json(
    catalog.plans.map((plan) => describePlan(catalog, plan)),
    200,
  );
};
