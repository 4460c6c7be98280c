import type { Hono } from "hono";
import { type EmulatorEnv, handle, readCreatedFilter, readListParams } from "../api-handler.ts";
import { expandObject } from "../expand.ts";
import type { Params } from "../params.ts";
import {
  type CustomerInput,
  createCustomer,
  deleteCustomer,
  listCustomers,
  retrieveCustomer,
  updateCustomer,
} from "../resources/customers.ts";

const EDITABLE = ["email", "name", "description", "phone", "metadata", "invoice_settings"];

const readCustomerInput = (p: Params): CustomerInput => {
  const invoiceSettings = p.hash("invoice_settings")?.only("default_payment_method");
  return {
    email: p.string("email"),
    name: p.string("name"),
    description: p.string("description"),
    phone: p.string("phone"),
    metadata: p.metadata(),
    // `invoice_settings=` (empty) unsets the whole hash; Stripe then clears the default.
    defaultPaymentMethod:
      invoiceSettings === null ? null : invoiceSettings?.string("default_payment_method"),
  };
};

export const registerCustomerRoutes = (app: Hono<EmulatorEnv>) => {
  app.post("/v1/customers", (c) =>
    handle(c, async (ctx, p) => {
      p.only(...EDITABLE, "payment_method", "expand");
      const customer = await createCustomer(ctx, {
        ...readCustomerInput(p),
        paymentMethod: p.string("payment_method") ?? undefined,
      });
      return expandObject(ctx, customer, p.expand());
    }),
  );

  app.get("/v1/customers", (c) =>
    handle(c, async (ctx, p) => {
      p.only("limit", "starting_after", "ending_before", "email", "created", "expand");
      const list = await listCustomers(ctx, {
        ...readListParams(p),
        created: readCreatedFilter(p),
        email: p.string("email") ?? undefined,
      });
      return expandObject(ctx, list, p.expand());
    }),
  );

  app.get("/v1/customers/:id", (c) =>
    handle(c, async (ctx, p) => {
      p.only("expand");
      return expandObject(ctx, await retrieveCustomer(ctx, c.req.param("id")), p.expand());
    }),
  );

  app.post("/v1/customers/:id", (c) =>
    handle(c, async (ctx, p) => {
      p.only(...EDITABLE, "expand");
      const customer = await updateCustomer(ctx, c.req.param("id"), readCustomerInput(p));
      return expandObject(ctx, customer, p.expand());
    }),
  );

  app.delete("/v1/customers/:id", (c) =>
    handle(c, async (ctx, p) => {
      p.only();
      return deleteCustomer(ctx, c.req.param("id"));
    }),
  );
};
