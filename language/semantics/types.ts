// Semantic types of Rein values (LANGUAGE §2). Produced by the checker from `TypeExpr`s and
// expressions; used by the compiler (money vs number, rendering), the request validator, and the
// language server (hover, completion).

export type Type =
  | { kind: 'string' }
  | { kind: 'number' }
  | { kind: 'int' }
  | { kind: 'bool' }
  | { kind: 'money' }
  | { kind: 'duration' }
  | { kind: 'time' }
  | { kind: 'null' }
  | { kind: 'any' }
  /** A string-literal union, e.g. `"a" | "b"`. */
  | { kind: 'enum'; values: string[] }
  | { kind: 'list'; elem: Type }
  | { kind: 'map'; value: Type }
  | { kind: 'object'; fields: FieldType[]; name?: string }
  /** `T?`-like: the value may be null (absent optional field, member access on null, …). */
  | { kind: 'nullable'; inner: Type }
  | { kind: 'function'; params: Type[]; result: Type }
  /** A budget used as a value: has `.spent .remaining .limit .used`. */
  | { kind: 'budget'; unit: 'money' | 'number' }
  /** Produced after an error; compatible with everything so errors do not cascade. */
  | { kind: 'error' };

export interface FieldType {
  name: string;
  type: Type;
  optional: boolean;
  doc?: string;
}

export const T = {
  string: { kind: 'string' } as Type,
  number: { kind: 'number' } as Type,
  int: { kind: 'int' } as Type,
  bool: { kind: 'bool' } as Type,
  money: { kind: 'money' } as Type,
  duration: { kind: 'duration' } as Type,
  time: { kind: 'time' } as Type,
  null: { kind: 'null' } as Type,
  any: { kind: 'any' } as Type,
  error: { kind: 'error' } as Type,
};

export function nullable(t: Type): Type {
  if (t.kind === 'nullable' || t.kind === 'null' || t.kind === 'any' || t.kind === 'error') return t;
  return { kind: 'nullable', inner: t };
}

export function stripNull(t: Type): Type {
  return t.kind === 'nullable' ? t.inner : t;
}

/** The literal a `??` default takes for a value of type `t` (`$0` for money, `""` for a string…):
 *  REIN206's help and the editor's quick fix say the same. */
export function nullDefault(t: Type | undefined): string {
  const b = t ? stripNull(t) : undefined;
  switch (b?.kind) {
    case 'money':
      return '$0';
    case 'string':
    case 'enum':
      return '""';
    case 'bool':
      return 'false';
    case 'list':
      return '[]';
    case 'map':
    case 'object':
      return '{}';
    case 'duration':
      return '0s';
    case 'time':
      return 'now';
    default:
      return '0';
  }
}

/** Human-readable form, as in source: `list<string>`, `"a" | "b"`, `money?`. */
export function typeToString(t: Type): string {
  switch (t.kind) {
    case 'enum':
      return t.values.map((v) => JSON.stringify(v)).join(' | ');
    case 'list':
      return `list<${typeToString(t.elem)}>`;
    case 'map':
      return `map<${typeToString(t.value)}>`;
    case 'object':
      if (t.name) return t.name;
      if (t.fields.length === 0) return '{}';
      return `{ ${t.fields.map((f) => `${f.name}${f.optional ? '?' : ''}: ${typeToString(f.type)}`).join(', ')} }`;
    case 'nullable': {
      const inner = typeToString(t.inner);
      return t.inner.kind === 'enum' ? `(${inner})?` : `${inner}?`;
    }
    case 'function':
      return `(${t.params.map(typeToString).join(', ')}) => ${typeToString(t.result)}`;
    case 'budget':
      return `budget<${t.unit}>`;
    default:
      return t.kind;
  }
}
