/**
 * Least recently accessed first, in bounded memory (issue 16 §3 and §5): which safe files
 * a watermark freeze frees to reach a byte target, without holding or sorting a million
 * files. Pure: the caller walks, judges safety (the freeze decision), and acts.
 *
 * The two-pass contract:
 * 1. Pass 1 ({@link LruSelection.count}): for each file the freeze decision says is safe
 *    (age aside), give its atime and the bytes freeing it would free. A fixed histogram of
 *    bytes by age ({@link HISTOGRAM_BUCKETS} buckets, log-scaled: about 30 s wide at one
 *    day, 3 h at one year) is all that is kept. {@link LruSelection.plan} then finds the
 *    boundary bucket: every older bucket is taken whole, and only part of the boundary
 *    bucket is needed.
 * 2. Pass 2 ({@link LruSelection.secondPass}): walk again, in any order, and give each
 *    safe file again. `consider` answers the files selected at once (older than the
 *    boundary bucket: act on them, e.g. add them to the freeze's batch); files of the
 *    boundary bucket wait in a heap of at most `boundaryCapacity` entries that keeps only
 *    the oldest needed, returned by `finish()`.
 * Both passes use the same `nowMs` (fixed at construction) and the same minimum age: a
 * file read within `minAgeDays` is never selected (`watermark_min_age`). A file read
 * between the passes simply moves to a younger bucket (or out of reach) on the second, so
 * the selection can fall short of the target but never selects a file read since; the
 * caller re-checks `statfs` afterwards anyway. A caller walking only once can run pass 2
 * over the files it kept from pass 1, or re-check each selected file before acting (as
 * freeze does: `unchangedSince` right before deleting).
 *
 * The result is the one a full sort by atime would give (oldest first, ties in the order
 * of the second pass, taking files until the target is reached), except when the boundary
 * bucket needs more than `boundaryCapacity` files: then the newest of those held are
 * selected early to stay within memory, still from the boundary bucket (within one
 * bucket width of the exact choice), and the outcome says `exact: false`.
 */
import { DAY_MS } from './age.js';

/** Buckets in the pass-1 histogram: 65,536 × 8 bytes ≈ 0.5 MB, whatever the tree. */
export const HISTOGRAM_BUCKETS = 65_536;
/** Buckets per doubling of the age in seconds: 32 doublings (136 years) fit. */
const PER_DOUBLING = HISTOGRAM_BUCKETS / 32;
/** Boundary-bucket files held at most in pass 2, by default. */
export const DEFAULT_BOUNDARY_CAPACITY = 100_000;

export interface LruOptions {
  /** Bytes to free (e.g. `checkWatermarks(...).bytesToFree`). */
  readonly targetBytes: number;
  readonly nowMs: number;
  /** `watermark_min_age`: files read more recently are never selected. */
  readonly minAgeDays: number;
  /** Boundary-bucket files held at once in pass 2 (default {@link DEFAULT_BOUNDARY_CAPACITY}). */
  readonly boundaryCapacity?: number;
}

export interface LruPlan {
  readonly targetBytes: number;
  /** Files and bytes seen in pass 1 that may be selected (old enough). */
  readonly eligibleFiles: number;
  readonly eligibleBytes: number;
  /** Bytes the target exceeds what may be selected: 0 when it can be reached. */
  readonly shortfallBytes: number;
  /** Ages (days) of the boundary bucket: older files are all selected; `null` when nothing or everything is. */
  readonly boundaryAgeDays: { readonly min: number; readonly max: number } | null;
}

export interface LruOutcome<T> {
  /** The boundary-bucket files selected, oldest first (the others were returned by `consider`). */
  readonly held: readonly T[];
  /** All selected in pass 2, `consider`'s answers included. */
  readonly selectedFiles: number;
  readonly selectedBytes: number;
  /** False when the boundary heap overflowed (see the module comment). */
  readonly exact: boolean;
}

/** Histogram position of an age: log-scaled, monotonic (an older file never lands in a lower bucket). */
function bucketOfAge(ageMs: number): number {
  const seconds = Math.max(0, ageMs) / 1000;
  return Math.min(HISTOGRAM_BUCKETS - 1, Math.floor(Math.log2(1 + seconds) * PER_DOUBLING));
}

/** Lowest age (days) of a bucket. */
function bucketMinDays(bucket: number): number {
  return ((2 ** (bucket / PER_DOUBLING) - 1) * 1000) / DAY_MS;
}

/** Nothing is needed from any bucket (target 0). */
const NONE = HISTOGRAM_BUCKETS;
/** Every eligible file is needed (target out of reach). */
const ALL = -1;
const NOTHING: readonly never[] = [];

/**
 * @example
 * ```ts
 * const lru = new LruSelection({ targetBytes: check.bytesToFree, nowMs: Date.now(), minAgeDays: 1 });
 * for (const f of walkSafeFiles()) lru.count(f.atimeMs, f.bytes);       // pass 1
 * const plan = lru.plan(); // plan.shortfallBytes > 0: the low mark cannot be reached
 * const pass = lru.secondPass<string>();
 * for (const f of walkSafeFiles()) for (const path of pass.consider(f.atimeMs, f.bytes, f.path)) freeze(path); // pass 2
 * for (const path of pass.finish().held) freeze(path);
 * ```
 */
export class LruSelection {
  private readonly bytes = new Float64Array(HISTOGRAM_BUCKETS);
  private files = 0;
  private total = 0;
  private planned: { plan: LruPlan; boundary: number; fromBoundary: number } | undefined;

  constructor(private readonly options: LruOptions) {}

  /** Pass 1: one safe file. Files under the minimum age are ignored. */
  count(atimeMs: number, bytes: number): void {
    if (!this.eligible(atimeMs)) return;
    this.bytes[bucketOfAge(this.options.nowMs - atimeMs)]! += bytes;
    this.files++;
    this.total += bytes;
  }

  /** After pass 1: where the boundary is, and whether the target can be reached. */
  plan(): LruPlan {
    return this.computePlan().plan;
  }

  /** Starts pass 2 (ends pass 1). */
  secondPass<T>(): LruSecondPass<T> {
    const { boundary, fromBoundary } = this.computePlan();
    return new LruSecondPass<T>((atimeMs) => (this.eligible(atimeMs) ? bucketOfAge(this.options.nowMs - atimeMs) : undefined), boundary, fromBoundary, this.options.boundaryCapacity ?? DEFAULT_BOUNDARY_CAPACITY);
  }

  private eligible(atimeMs: number): boolean {
    return this.options.nowMs - atimeMs >= this.options.minAgeDays * DAY_MS;
  }

  private computePlan(): { plan: LruPlan; boundary: number; fromBoundary: number } {
    if (this.planned) return this.planned;
    const target = this.options.targetBytes;
    const base = { targetBytes: target, eligibleFiles: this.files, eligibleBytes: this.total };
    if (target <= 0) return (this.planned = { plan: { ...base, shortfallBytes: 0, boundaryAgeDays: null }, boundary: NONE, fromBoundary: 0 });
    let older = 0;
    for (let bucket = HISTOGRAM_BUCKETS - 1; bucket >= 0; bucket--) {
      const here = this.bytes[bucket]!;
      if (older + here >= target && here > 0) {
        const boundaryAgeDays = { min: bucketMinDays(bucket), max: bucketMinDays(bucket + 1) };
        return (this.planned = { plan: { ...base, shortfallBytes: 0, boundaryAgeDays }, boundary: bucket, fromBoundary: target - older });
      }
      older += here;
    }
    return (this.planned = { plan: { ...base, shortfallBytes: target - this.total, boundaryAgeDays: null }, boundary: ALL, fromBoundary: 0 });
  }
}

interface Held<T> {
  readonly atimeMs: number;
  readonly seq: number;
  readonly bytes: number;
  readonly item: T;
}

/** Pass 2 of {@link LruSelection}. */
export class LruSecondPass<T> {
  /** Max-heap on (atime, seq): the newest held file on top, the first to let go. */
  private readonly heap: Held<T>[] = [];
  private heapBytes = 0;
  private seq = 0;
  private selectedFiles = 0;
  private selectedBytes = 0;
  private exact = true;

  /** @internal built by {@link LruSelection.secondPass} */
  constructor(
    private readonly bucketOf: (atimeMs: number) => number | undefined,
    private readonly boundary: number,
    private remaining: number,
    private readonly capacity: number,
  ) {}

  /**
   * One safe file of the second walk: the files selected by this call (this one when it
   * is older than the boundary bucket; one held before it, rarely, when the heap is full).
   */
  consider(atimeMs: number, bytes: number, item: T): readonly T[] {
    const bucket = this.bucketOf(atimeMs);
    if (bucket === undefined || this.boundary === NONE || bucket < this.boundary) return NOTHING;
    if (this.boundary === ALL || bucket > this.boundary) {
      this.selectedFiles++;
      this.selectedBytes += bytes;
      return [item];
    }
    this.push({ atimeMs, seq: this.seq++, bytes, item });
    // Let go of the newest while the others still reach what the boundary bucket must give.
    while (this.heap.length > 0 && this.heapBytes - this.heap[0]!.bytes >= this.remaining) this.pop();
    if (this.heap.length <= this.capacity) return NOTHING;
    // Full: the top is needed (the rest do not reach the target without it): select it now.
    const early = this.pop();
    this.remaining -= early.bytes;
    this.selectedFiles++;
    this.selectedBytes += early.bytes;
    this.exact = false;
    return [early.item];
  }

  /** Ends pass 2: the boundary-bucket files selected, oldest first. */
  finish(): LruOutcome<T> {
    const held = [...this.heap].sort(newerFirst).reverse();
    return {
      held: held.map((h) => h.item),
      selectedFiles: this.selectedFiles + held.length,
      selectedBytes: this.selectedBytes + this.heapBytes,
      exact: this.exact,
    };
  }

  private push(entry: Held<T>): void {
    const heap = this.heap;
    heap.push(entry);
    this.heapBytes += entry.bytes;
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (newerFirst(heap[i]!, heap[parent]!) >= 0) break;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
  }

  private pop(): Held<T> {
    const heap = this.heap;
    const top = heap[0]!;
    const last = heap.pop()!;
    this.heapBytes -= top.bytes;
    if (heap.length > 0) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        const right = left + 1;
        let first = i;
        if (left < heap.length && newerFirst(heap[left]!, heap[first]!) < 0) first = left;
        if (right < heap.length && newerFirst(heap[right]!, heap[first]!) < 0) first = right;
        if (first === i) break;
        [heap[i], heap[first]] = [heap[first]!, heap[i]!];
        i = first;
      }
    }
    return top;
  }
}

/** Orders newest first: larger atime, then later in the walk. */
function newerFirst<T>(a: Held<T>, b: Held<T>): number {
  return b.atimeMs - a.atimeMs || b.seq - a.seq;
}
