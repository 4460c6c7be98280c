import type { ServiceContext } from "./context.ts";
import { customerOfPlatform } from "./customers.ts";

/** A SetupIntent for collecting a payment method for the platform's customer. */
export const createSetupIntent = async ({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { platformId: string; idempotencyKey?: string | undefined };
}) => {
  const customer = await customerOfPlatform({ ctx, input });
  return ctx.processor.createSetupIntent(
    customer.id,
    input.idempotencyKey ? { idempotencyKey: `setup-intent-${input.idempotencyKey}` } : undefined,
  );
};

/** A hosted customer-portal session for the platform's customer. */
export const createPortalSession = async ({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { platformId: string; returnUrl: string; idempotencyKey?: string | undefined };
}) => {
  const customer = await customerOfPlatform({ ctx, input });
  return ctx.processor.createPortalSession(
    customer.id,
    input.returnUrl,
    input.idempotencyKey ? { idempotencyKey: `portal-${input.idempotencyKey}` } : undefined,
  );
};
