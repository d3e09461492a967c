// A map from ids to values, tuned for many live entries with consecutive ids: the engine's settle
// data (engine.ts `Pending`) is kept in an `IdIndex`, the memory store's reservations (slot numbers)
// in an `IntIdIndex`.

/** Slots of a dense group: every pair of base-36 characters ends one id of the group. */
const SLOTS = 36 * 36;
/** A dense group that no longer takes new ids and holds at most this many becomes sparse: its
 *  entries move to the map (an entry there costs ~90 bytes with its id, a dense group ~10 KB). */
const SPARSE_AT = SLOTS >>> 4;

/** A base-36 digit's value, or -1. */
function digit(c: number): number {
  return c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 122 ? c - 87 : -1;
}

/** The slot of an id in its group (its last two characters as a base-36 number), or -1 when they
 *  are not both base-36 digits or the id is shorter than three characters. */
function slotOf(id: string): number {
  const n = id.length;
  if (n < 3) return -1;
  const a = digit(id.charCodeAt(n - 2));
  if (a < 0) return -1;
  const b = digit(id.charCodeAt(n - 1));
  return b < 0 ? -1 : a * 36 + b;
}

const DIGITS = '0123456789abcdefghijklmnopqrstuvwxyz';

/** Whether `id` is `key` and two more characters. Compared from the end, where consecutive ids
 *  differ (and without `startsWith`, several times slower on the engine's concatenated ids). */
function inGroup(id: string, key: string): boolean {
  const n = key.length;
  if (id.length !== n + 2) return false;
  for (let i = n - 1; i >= 0; i--) if (id.charCodeAt(i) !== key.charCodeAt(i)) return false;
  return true;
}

/** A group's slots: a JS array (`IdIndex`) or an `Int32Array` (`IntIdIndex`). */
interface Slots<V> {
  [i: number]: V;
}

/** The ids that share all but their last two characters (`key`). Dense: a value per slot (no id
 *  string, no map entry per id). Sparse (`slots` null): its ids are entries of `other`. */
interface Group<V> {
  key: string;
  slots: Slots<V> | null;
  count: number;
}

/**
 * Id → value (a reservation's record). The engine's ids are a fixed prefix and a base-36 counter
 * (engine.ts), so consecutive ids share all but their last two characters: such a group is an array
 * of 1,296 slots, and adding an id is an array store, not a hash-table insert (a map of hundreds of
 * thousands of live reservations costs ~0.7 µs per insert and ~90 bytes per entry with its id). A
 * group that holds few ids once the counter has moved past it becomes sparse (a map entry per id).
 * Any id works: one that does not end in two base-36 digits is a map entry. `empty` marks a free
 * slot; `slotsOf` makes a dense group's slots, all `empty` (the two kinds below).
 */
class GroupedIndex<V> {
  private readonly groups = new Map<string, Group<V>>();
  /** Ids of sparse groups and ids without a slot. */
  private readonly other = new Map<string, V>();
  private count = 0;
  /** The group `add` used last (consecutive ids mostly share one): no slice of the id to find it. */
  private last: Group<V> | null = null;

  constructor(
    private readonly empty: V,
    private readonly slotsOf: () => Slots<V>,
  ) {}

  get size(): number {
    return this.count;
  }

  get(id: string): V | undefined {
    const s = slotOf(id);
    if (s >= 0) {
      const g = this.groups.get(id.slice(0, -2));
      if (g !== undefined && g.slots !== null) {
        const v = g.slots[s]!;
        return v === this.empty ? undefined : v;
      }
    }
    return this.other.get(id);
  }

  /** Adds `id` unless it is present; false (and nothing changed) when it is. */
  add(id: string, value: V): boolean {
    const s = slotOf(id);
    if (s < 0) return this.addOther(id, value);
    const g = this.last;
    return this.put(g !== null && inGroup(id, g.key) ? g : this.enter(id.slice(0, -2)), s, id, value);
  }

  /**
   * `add` for an id whose group key (all but its last two characters) and slot (those two base-36
   * digits) the caller knows: the engine for the ids it makes, passing one key string per group, so
   * nothing reads the id's characters.
   */
  addIn(key: string, slot: number, id: string, value: V): boolean {
    const g = this.last;
    return this.put(g !== null && g.key === key ? g : this.enter(key), slot, id, value);
  }

  /** The group of `key` (made when new), now the one `add` tries first. */
  private enter(key: string): Group<V> {
    const prev = this.last;
    let found = this.groups.get(key);
    if (found === undefined) {
      found = { key, slots: this.slotsOf(), count: 0 };
      this.groups.set(key, found);
    }
    this.last = found;
    // The counter has moved on from the previous group: keep it dense only while it is well filled.
    if (prev !== null && prev !== found) this.leave(prev);
    return found;
  }

  private put(g: Group<V>, s: number, id: string, value: V): boolean {
    const slots = g.slots;
    if (slots === null) {
      if (!this.addOther(id, value)) return false;
      g.count++;
      return true;
    }
    if (slots[s] !== this.empty) return false;
    slots[s] = value;
    g.count++;
    this.count++;
    return true;
  }

  delete(id: string): void {
    const s = slotOf(id);
    if (s >= 0) {
      const g = this.groups.get(id.slice(0, -2));
      if (g !== undefined) {
        const slots = g.slots;
        if (slots !== null) {
          if (slots[s] === this.empty) return;
          slots[s] = this.empty;
          this.count--;
        } else if (!this.other.delete(id)) return;
        else this.count--;
        g.count--;
        this.leave(g);
        return;
      }
    }
    if (this.other.delete(id)) this.count--;
  }

  /** Deletes the entries `drop` selects (called once for each entry). */
  deleteWhere(drop: (value: V) => boolean): void {
    for (const [id, value] of this.other) {
      if (!drop(value)) continue;
      this.other.delete(id);
      this.count--;
      const s = slotOf(id);
      if (s >= 0) {
        const g = this.groups.get(id.slice(0, -2));
        if (g !== undefined && g.slots === null) {
          g.count--;
          this.leave(g);
        }
      }
    }
    const empty = this.empty;
    for (const g of this.groups.values()) {
      const slots = g.slots;
      if (slots === null) continue;
      for (let i = 0; i < SLOTS; i++) {
        const v = slots[i]!;
        if (v !== empty && drop(v)) {
          slots[i] = empty;
          g.count--;
          this.count--;
        }
      }
      this.leave(g);
    }
  }

  /** Replaces every value `v` by `f(v)`. */
  mapValues(f: (value: V) => V): void {
    for (const [id, v] of this.other) this.other.set(id, f(v));
    const empty = this.empty;
    for (const g of this.groups.values()) {
      const slots = g.slots;
      if (slots === null) continue;
      for (let i = 0; i < SLOTS; i++) {
        const v = slots[i]!;
        if (v !== empty) slots[i] = f(v);
      }
    }
  }

  *ids(): IterableIterator<string> {
    for (const g of this.groups.values()) {
      const slots = g.slots;
      if (slots === null) continue;
      for (let i = 0; i < SLOTS; i++) if (slots[i] !== this.empty) yield idOf(g.key, i);
    }
    yield* this.other.keys();
  }

  private addOther(id: string, value: V): boolean {
    if (this.other.has(id)) return false;
    this.other.set(id, value);
    this.count++;
    return true;
  }

  /** A group that `add` is not using: dropped when empty; dense with few ids, they move to the map.
   *  (The group `add` uses stays, even empty: settling each reservation right after its decision
   *  would otherwise make a new array per decision.) */
  private leave(g: Group<V>): void {
    if (g === this.last) return;
    if (g.count === 0) {
      this.groups.delete(g.key);
      return;
    }
    const slots = g.slots;
    if (slots === null || g.count > SPARSE_AT) return;
    g.slots = null;
    for (let i = 0; i < SLOTS; i++) {
      const v = slots[i]!;
      if (v !== this.empty) this.other.set(idOf(g.key, i), v);
    }
  }
}

/** Any value but `undefined` (the engine's settle data `Kept` objects): dense groups are JS arrays. */
export class IdIndex<T> extends GroupedIndex<T> {
  constructor() {
    super(undefined as T, () => new Array<T>(SLOTS).fill(undefined as T));
  }
}

/** No value (a free slot of an `IntIdIndex` dense group). */
const FREE = -1;

/**
 * `IdIndex` for values that are non-negative 32-bit integers (the memory store's slot numbers): a
 * dense group is an `Int32Array` (its memory outside the JS heap, nothing in it for the garbage
 * collector to trace or copy, 4 bytes a slot against 8), -1 a free slot; it answers as `IdIndex`
 * does for the same calls (test/runtime/id-index-int.test.ts).
 */
export class IntIdIndex extends GroupedIndex<number> {
  constructor() {
    super(FREE, () => new Int32Array(SLOTS).fill(FREE));
  }

  /** Adds `id` (`value` ≥ 0) unless it is present; false (and nothing changed) when it is. */
  override add(id: string, value: number): boolean {
    if ((value | 0) !== value || value < 0) throw new RangeError(`IntIdIndex: ${value} is not a non-negative 32-bit integer`);
    return super.add(id, value);
  }
}

function idOf(key: string, slot: number): string {
  return key + DIGITS[(slot / 36) | 0] + DIGITS[slot % 36];
}
