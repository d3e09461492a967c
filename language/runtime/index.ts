// `rein/runtime`: evaluate prebuilt policies (`rein build` bundles) without the parser, the checker
// or the linter — the smallest browser bundle. `loadCompiled(bundle)` gives the same `Policy` as
// `compile()` from `rein`; the engine (budgets) and the memory store work on it as on any policy.
export { loadCompiled, BUNDLE_FORMAT, BUNDLE_FORMAT_VERSION } from './prebuilt.js';
export type { LoadCompiledOptions, CompiledSection } from './prebuilt.js';
export type { Policy, EvaluateOptions } from './compile.js';
export { Engine } from './engine.js';
export type { EngineOptions, DecideOptions, EngineMode, DecisionHookContext, PolicyLike } from './engine.js';
export type { ExternImpl, ExternImpls, ExternCallRecord } from './externs.js';
export { MemoryBudgetStore } from './memory-store.js';
export type { BudgetStore, ReserveRequest, ReserveResult, Actual, SettleResult, CounterState } from './store.js';
export type { Decision, Approval, ApprovalRequest } from './decision.js';
export { applyTransforms, maskedSummary, pathText } from './transforms.js';
export type { Transform, MaskedSummary, Span } from './transforms.js';
export type { Effect, ClauseEffect, DecisionError, SourceLocation } from './compiled.js';
export { PolicyError, BundleError } from '../errors.js';
export { REIN_VERSION } from '../version.js';
