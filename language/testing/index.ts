// Entry point `rein/testing`: test kits for code that extends Rein. Runs anywhere (no Node-only imports).
export { budgetStoreConformance, budgetStoreConformanceCases, runConformanceCase, ConformanceError } from './store-conformance.js';
export type { BudgetStoreCapabilities, BudgetStoreConformanceOptions, ConformanceCase, ConformanceContext, ConformanceRunner } from './store-conformance.js';
