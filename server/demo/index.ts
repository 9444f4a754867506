/** Deterministic demo data for the source database `shop` and the S3 landing zone (`sluice demo seed`). */
export { seedDemo, type SeedOptions } from './seed';
export { DEMO_LIMITS, DemoWorld, type DemoOptions, type GeneratedDay } from './world';
export { EXCEPTION_CATEGORIES, type ExceptionCategory, type SeededDay, type SeededFile, type SeededProblem, type SeedManifest } from './manifest';
export { PARTNER_COLUMNS, partnerPrefix } from './partner-files';
export { recentDaysStart } from './calendar';
