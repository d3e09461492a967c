// Public API of the `rein` package (browser-safe core). Node-only helpers live in `rein/node`.
export { parse, tokenize } from './syntax/parser.js';
export type * from './syntax/ast.js';
export { check, checkParsed } from './check.js';
export type { CheckOptions } from './check.js';
export { format } from './format/format.js';
export { compile } from './policy.js';
export { loadRegexEngine } from './semantics/patterns.js';
export type { Policy, CompileOptions, EvaluateOptions } from './policy.js';
export { Engine } from './runtime/engine.js';
export type { EngineOptions, DecideOptions, EngineMode, DecisionHookContext, PolicyLike } from './runtime/engine.js';
export type { ExternImpl, ExternImpls, ExternCallRecord } from './runtime/externs.js';
export { MemoryBudgetStore } from './runtime/memory-store.js';
export type { BudgetStore, ReserveRequest, ReserveResult, Actual, SettleResult, CounterState } from './runtime/store.js';
export { runTests } from './runtime/test-runner.js';
export { decisionSchema, decisionJsonSchema } from './runtime/decision-schema.js';
export type { Decision } from './runtime/decision.js';
export { applyTransforms, maskedSummary, pathText, DEFAULT_REPLACEMENT } from './runtime/transforms.js';
export type { Transform, MaskedSummary, Span } from './runtime/transforms.js';
export { findSpans } from './runtime/detectors.js';
export type { Effect, ClauseEffect, DecisionError, SourceLocation } from './runtime/compiled.js';
export { PolicyError } from './errors.js';
export { LineIndex, compareDiagnostics } from './diagnostics.js';
export { CODES } from './diagnostic-codes.js';
export { configJsonSchema } from './config.js';
export type { Diagnostic, Range, Position, Severity } from './diagnostics.js';
export type { Type } from './semantics/types.js';
export type { CheckedProgram, CheckResult, Symbol as ReinSymbol } from './semantics/program.js';
export { AuditLogger, MemoryAuditSink } from './audit/logger.js';
export type { AuditSink, AuditLoggerOptions, DecisionContext } from './audit/logger.js';
export { AuditChain, ChainVerifier, verifyChain, verifyLog, parseRecords, GENESIS } from './audit/record.js';
export type { AuditRecord, VerifyResult, LogVerifyResult, AnchorPoint, ChainVerifierOptions } from './audit/record.js';
export { DecisionMetrics } from './audit/metrics.js';
export { renderReport, summarize } from './audit/report.js';
export {
  signApproval,
  verifyApprovalToken,
  decodeApprovalToken,
  generateApprovalKeyPair,
  verificationKeyOf,
  prepareApprovalKeys,
  randomNonce,
} from './runtime/approvals.js';
export type { ApprovalKey, ApprovalSigningKey, ApprovalClaims, ApprovalAlg } from './runtime/approvals.js';
export type { Approval, ApprovalRequest } from './runtime/decision.js';
