import type { ServiceContext } from "./context.ts";
import { customerOfPlatform } from "./customers.ts";

/** A SetupIntent for collecting a payment method for the platform's customer. */
export const createSetupIntent = async ({
  ctx,
  platformId,
  idempotencyKey,
}: {
  ctx: ServiceContext;
  platformId: string;
  idempotencyKey?: string | undefined;
}) => {
  const customer = await customerOfPlatform({ ctx, platformId });
  return ctx.processor.createSetupIntent(
    customer.id,
    idempotencyKey ? { idempotencyKey: `setup-intent-${idempotencyKey}` } : undefined,
  );
};

/** A hosted customer-portal session for the platform's customer. */
export const createPortalSession = async ({
  ctx,
  platformId,
  returnUrl,
  idempotencyKey,
}: {
  ctx: ServiceContext;
  platformId: string;
  returnUrl: string;
  idempotencyKey?: string | undefined;
}) => {
  const customer = await customerOfPlatform({ ctx, platformId });
  return ctx.processor.createPortalSession(
    customer.id,
    returnUrl,
    idempotencyKey ? { idempotencyKey: `portal-${idempotencyKey}` } : undefined,
  );
};
