// Relations between types: assignability, joins, comparability. Used by the checker.

import { nullable, stripNull, T, type FieldType, type Type } from './types.js';

export const isLoose = (t: Type): boolean => t.kind === 'any' || t.kind === 'error';
export const isNullable = (t: Type): boolean => t.kind === 'nullable' || t.kind === 'null';
export const isNumeric = (t: Type): boolean => t.kind === 'int' || t.kind === 'number';
export const isStringy = (t: Type): boolean => t.kind === 'string' || t.kind === 'enum';

/** Can a value of type `src` be used where `dst` is expected? */
export function assignable(src: Type, dst: Type): boolean {
  if (isLoose(src) || isLoose(dst)) return true;
  if (dst.kind === 'nullable') {
    if (src.kind === 'null') return true;
    return assignable(stripNull(src), dst.inner);
  }
  if (src.kind === 'nullable' || src.kind === 'null') return false;
  switch (dst.kind) {
    case 'number':
      return src.kind === 'number' || src.kind === 'int';
    case 'string':
      return src.kind === 'string' || src.kind === 'enum';
    case 'enum':
      return src.kind === 'enum' ? src.values.every((v) => dst.values.includes(v)) : src.kind === 'string';
    case 'list':
      return src.kind === 'list' && assignable(src.elem, dst.elem);
    case 'map':
      if (src.kind === 'map') return assignable(src.value, dst.value);
      if (src.kind === 'object') return src.fields.every((f) => assignable(f.type, dst.value));
      return false;
    case 'object': {
      if (src.kind === 'map') return isLoose(src.value);
      if (src.kind !== 'object') return false;
      for (const f of dst.fields) {
        const s = src.fields.find((x) => x.name === f.name);
        if (!s) {
          if (!f.optional) return false;
          continue;
        }
        if (!assignable(s.type, f.optional ? nullable(f.type) : f.type)) return false;
      }
      return true;
    }
    case 'budget':
      return src.kind === 'budget' && src.unit === dst.unit;
    case 'function':
      return src.kind === 'function';
    default:
      return src.kind === dst.kind;
  }
}

/** The smallest type holding both (for list items, `if` branches, `??`); undefined when none. */
export function join(a: Type, b: Type): Type | undefined {
  if (a.kind === 'error' || b.kind === 'error') return T.error;
  if (a.kind === 'any' || b.kind === 'any') return T.any;
  if (a.kind === 'null') return nullable(b);
  if (b.kind === 'null') return nullable(a);
  if (a.kind === 'nullable' || b.kind === 'nullable') {
    const j = join(stripNull(a), stripNull(b));
    return j && nullable(j);
  }
  // An object literal where a map is expected (`args ?? {}`): the map, when every field fits it.
  if (a.kind === 'map' && b.kind === 'object' && assignable(b, a)) return a;
  if (b.kind === 'map' && a.kind === 'object' && assignable(a, b)) return b;
  if (a.kind === b.kind) {
    switch (a.kind) {
      case 'enum': {
        const vs = [...a.values];
        for (const v of (b as typeof a).values) if (!vs.includes(v)) vs.push(v);
        return { kind: 'enum', values: vs };
      }
      case 'list': {
        const e = join(a.elem, (b as typeof a).elem);
        return e && { kind: 'list', elem: e };
      }
      case 'map': {
        const e = join(a.value, (b as typeof a).value);
        return e && { kind: 'map', value: e };
      }
      case 'object': {
        const bo = b as typeof a;
        if (a.name && a.name === bo.name) return a;
        const fields: FieldType[] = [];
        for (const f of a.fields) {
          const g = bo.fields.find((x) => x.name === f.name);
          if (!g) fields.push({ ...f, optional: true });
          else {
            const t = join(f.type, g.type);
            if (!t) return undefined;
            fields.push({ name: f.name, type: t, optional: f.optional || g.optional });
          }
        }
        for (const g of bo.fields) if (!a.fields.some((f) => f.name === g.name)) fields.push({ ...g, optional: true });
        return { kind: 'object', fields };
      }
      case 'budget':
        return a.unit === (b as typeof a).unit ? a : undefined;
      default:
        return a;
    }
  }
  if (isNumeric(a) && isNumeric(b)) return T.number;
  if (isStringy(a) && isStringy(b)) return T.string;
  if (a.kind === 'list' && b.kind === 'list') return undefined;
  return undefined;
}

/** May `==` between these types ever be true (ignoring null)? */
export function comparable(a: Type, b: Type): boolean {
  const x = stripNull(a);
  const y = stripNull(b);
  if (isLoose(x) || isLoose(y) || x.kind === 'null' || y.kind === 'null') return true;
  if (isNumeric(x) && isNumeric(y)) return true;
  if (isStringy(x) && isStringy(y)) return true;
  if (x.kind === 'object' || x.kind === 'map') return y.kind === 'object' || y.kind === 'map';
  if (x.kind === 'list' && y.kind === 'list') return comparable(x.elem, y.elem);
  return x.kind === y.kind;
}

/** Field lookup on an object type. */
export function fieldOf(t: Type, name: string): FieldType | undefined {
  return t.kind === 'object' ? t.fields.find((f) => f.name === name) : undefined;
}

/** Deep-merge typing for `a with b`: fields of b replace fields of a; nested objects merge. */
export function mergeTypes(a: Type, b: Type): Type {
  if (a.kind !== 'object' || b.kind !== 'object') return isLoose(a) || isLoose(b) ? T.any : b;
  const fields: FieldType[] = a.fields.map((f) => ({ ...f }));
  for (const g of b.fields) {
    const i = fields.findIndex((f) => f.name === g.name);
    if (i < 0) fields.push({ ...g });
    else {
      const f = fields[i];
      const merged = f.type.kind === 'object' && g.type.kind === 'object' ? mergeTypes(f.type, g.type) : g.type;
      fields[i] = { name: g.name, type: merged, optional: f.optional && g.optional, doc: f.doc };
    }
  }
  return { kind: 'object', fields };
}

export function isScalar(t: Type): boolean {
  const s = stripNull(t);
  return ['string', 'number', 'int', 'bool', 'money', 'duration', 'time', 'enum', 'any', 'error', 'null'].includes(s.kind);
}
