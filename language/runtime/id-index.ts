// A map from ids to values, tuned for many live entries with consecutive ids: the memory store's
// reservation records and the engine's settle data (engine.ts `Pending`) are kept in one each.

/**
 * Id → value (a reservation's record), as small maps grouped by the id without its last 3 characters. The
 * engine's ids are a fixed prefix and a base-36 counter, so one group holds up to 36³ consecutive
 * ids: with many live reservations (a long TTL, nothing settled) inserting into one huge Map costs
 * ~2× more (its table no longer fits in the CPU caches). Any id works; only the grouping differs.
 */
export class IdIndex<T> {
  private readonly groups = new Map<string, Map<string, T>>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(id: string): T | undefined {
    const g = this.groups.get(groupOf(id));
    return g === undefined ? undefined : g.get(id);
  }

  /** The group `add` used last, and its key (consecutive ids mostly share a group): no slice of the
   *  id to find it. Cleared when that group is deleted. */
  private lastKey: string | null = null;
  private lastGroup: Map<string, T> | null = null;

  /** Adds `id` unless it is present; false (and nothing changed) when it is. */
  add(id: string, value: T): boolean {
    let g: Map<string, T> | undefined;
    const last = this.lastKey;
    if (last !== null && id.length === last.length + 3 && id.startsWith(last)) {
      g = this.lastGroup!;
    } else {
      const k = groupOf(id);
      g = this.groups.get(k);
      if (g === undefined) {
        g = new Map();
        this.groups.set(k, g);
      }
      this.lastKey = k;
      this.lastGroup = g;
    }
    if (g.has(id)) return false;
    g.set(id, value);
    this.count++;
    return true;
  }

  delete(id: string): void {
    const k = groupOf(id);
    const g = this.groups.get(k);
    if (g !== undefined && g.delete(id)) {
      this.count--;
      if (g.size === 0) this.dropGroup(k, g);
    }
  }

  /** Deletes the entries `drop` selects (safe while iterating). */
  deleteWhere(drop: (value: T) => boolean): void {
    for (const [k, g] of this.groups) {
      for (const [id, value] of g) {
        if (drop(value)) {
          g.delete(id);
          this.count--;
        }
      }
      if (g.size === 0) this.dropGroup(k, g);
    }
  }

  private dropGroup(k: string, g: Map<string, T>): void {
    this.groups.delete(k);
    if (this.lastGroup === g) {
      this.lastKey = null;
      this.lastGroup = null;
    }
  }

  *ids(): IterableIterator<string> {
    for (const g of this.groups.values()) yield* g.keys();
  }
}

function groupOf(id: string): string {
  return id.length > 4 ? id.slice(0, -3) : '';
}
