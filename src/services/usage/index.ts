/** Usage metering (DESIGN §6–7): ingestion, rollups, reads, alerts, and usage per period. */
export { getCurrentUsage, type UsageSnapshot } from "./current-usage.ts";
export { getDailyUsage, maxDailyRangeDays } from "./daily-usage.ts";
export {
  type IngestResult,
  ingestUsageEvents,
  type UsageEventInput,
} from "./ingest-usage-events.ts";
export { alertThresholds, getUsageAlerts, type UsageAlert } from "./usage-alerts.ts";
export { listUsageEntities, type UsageEntity } from "./usage-entities.ts";
export { getUsageHistory } from "./usage-history.ts";
export {
  type UsagePeriod,
  usageBucketFinder,
  usagePeriodFor,
  usagePeriodOf,
} from "./usage-period.ts";
export { createUsageStore, type UsageEventRow, type UsageStore } from "./usage-store.ts";
export { usageForPeriod, usageForPeriods } from "./usage-values.ts";
