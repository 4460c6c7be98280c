import type { Registry } from "prom-client";
import type { Principal } from "../services/api-keys.ts";
import type { ServiceContext } from "../services/context.ts";

export interface AppDeps extends ServiceContext {
  /** The operator bearer token (from config or the data dir). */
  operatorKey: string;
  metrics: Registry;
}

export interface AppEnv {
  Variables: {
    requestId: string;
    principal: Principal;
    deps: AppDeps;
  };
}
