import { createRoute, type RouteHandler } from "@hono/zod-openapi";
import { describePlan } from "../../billing/plan-catalog.ts";
import type { AppEnv } from "../../http/env.ts";
import { bearerAuth, errorResponses, jsonResponse } from "../../http/openapi.ts";
import { listOf, PlanSchema } from "../schemas.ts";

export const route = createRoute({
  method: "get",
  path: "/plans",
  operationId: "listPlans",
  tags: ["Plans"],
  summary: "List available billing plans",
  description: "Every tier with its monthly and yearly prices, included quantities and overage.",
  security: bearerAuth,
  responses: {
    200: jsonResponse(
      listOf(PlanSchema, "PlanList"),
      "The plan catalog in tier order, as one page (the list shape of every list)",
    ),
    ...errorResponses(403),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = (c) => {
  const { catalog } = c.get("deps");
  return c.json(
    {
      data: catalog.plans.map((plan) => describePlan(catalog, plan)),
      hasMore: false,
      nextCursor: null,
    },
    200,
  );
};
