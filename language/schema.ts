// The public face of a validator (a zod/mini schema inside): what `decisionSchema` and
// `bundleSchema` promise to users, without tying their types to zod's (the package's declarations
// reference no dependency).

export interface SchemaIssue {
  code?: string;
  path: PropertyKey[];
  message: string;
}

export type SafeParseResult<T> = { success: true; data: T; error?: undefined } | { success: false; data?: undefined; error: { issues: SchemaIssue[] } };

export interface Schema<T> {
  /** Returns the value, or throws an error listing the issues. */
  parse(data: unknown): T;
  /** Never throws. */
  safeParse(data: unknown): SafeParseResult<T>;
}

/** Compile-time check that two types are identical (used where an explicit type mirrors a schema).
 *  Identity, not mutual assignability: an optional field one side lacks makes two object types
 *  assignable to each other both ways, yet they differ (test/runtime/decision-types.test.ts). */
export type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
