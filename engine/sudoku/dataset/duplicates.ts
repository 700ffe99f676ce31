/**
 * Duplicate puzzles in a record stream, for `hrm-lens data check`: how many rows repeat an earlier puzzle, and the
 * first few with the line of the row they repeat.
 *
 * Memory grows with the number of distinct puzzles only: each is kept as a 64-bit hash of its cells (so '.' and '0'
 * blanks are the same puzzle) plus the line where it first appeared, 13 bytes per slot of an open-addressing table
 * at most half full (~100 MB for Sudoku-Extreme's 3.8M puzzles). Two distinct puzzles share a hash with probability
 * about n²/2⁶⁵ (under 10⁻⁶ for 4M puzzles); such a pair would count as one duplicate.
 */

export interface DuplicateExample {
  /** The repeating row (1-based line; for `.npy` folders the row of its split). */
  line: number;
  /** The row where the puzzle first appeared. */
  firstLine: number;
  /** For `.npy` folders: the splits of the two rows (they number rows separately). */
  source?: string;
  firstSource?: string;
}

export interface DuplicatesJSON {
  /** Rows whose puzzle appeared on an earlier row. */
  duplicates: number;
  distinct: number;
  examples: DuplicateExample[];
}

const EMPTY_TAG = 0;
const UNKNOWN_TAG = 255;

/** One 32-bit murmur3-style hash of the cells (4 cells per word), with a seed. */
function hashCells(cells: ArrayLike<number>, seed: number): number {
  let h = seed | 0;
  const n = cells.length;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    let k = (cells[i] & 0xff) | ((cells[i + 1] & 0xff) << 8) | ((cells[i + 2] & 0xff) << 16) | ((cells[i + 3] & 0xff) << 24);
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, 0x1b873593);
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  let k = 0;
  for (let s = 0; i < n; i++, s += 8) k |= (cells[i] & 0xff) << s;
  k = Math.imul(k, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  h ^= Math.imul(k, 0x1b873593);
  h ^= n;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export class DuplicateCounter {
  duplicates = 0;
  distinct = 0;
  readonly examples: DuplicateExample[] = [];
  private capacity = 1 << 12;
  private hi = new Uint32Array(this.capacity);
  private lo = new Uint32Array(this.capacity);
  private lines = new Uint32Array(this.capacity);
  private tags = new Uint8Array(this.capacity);
  private readonly tagIds = new Map<string, number>();
  private readonly tagNames: string[] = [''];

  /** `maxExamples`: duplicates listed with their lines (the first ones met). */
  constructor(private readonly maxExamples = 5) {}

  /**
   * Count one row. `tag`: a name that tells apart rows numbered separately (the split of an `.npy` folder); up to
   * 254 distinct tags are remembered. Returns true when the puzzle appeared on an earlier row.
   */
  add(puzzle: ArrayLike<number>, line: number, tag?: string): boolean {
    const hi = hashCells(puzzle, 0x2545f491);
    let lo = hashCells(puzzle, 0x9e3779b9);
    if (hi === 0 && lo === 0) lo = 1; // (0, 0) marks an empty slot
    const mask = this.capacity - 1;
    for (let s = lo & mask; ; s = (s + 1) & mask) {
      if (this.hi[s] === 0 && this.lo[s] === 0) {
        this.hi[s] = hi;
        this.lo[s] = lo;
        this.lines[s] = Math.min(line, 0xffffffff);
        this.tags[s] = this.tagOf(tag);
        this.distinct++;
        if (this.distinct * 2 > this.capacity) this.grow();
        return false;
      }
      if (this.hi[s] === hi && this.lo[s] === lo) {
        this.duplicates++;
        if (this.examples.length < this.maxExamples) {
          const ex: DuplicateExample = { line, firstLine: this.lines[s] };
          if (tag !== undefined) {
            ex.source = tag;
            const first = this.tags[s];
            if (first !== EMPTY_TAG && first !== UNKNOWN_TAG) ex.firstSource = this.tagNames[first];
          }
          this.examples.push(ex);
        }
        return true;
      }
    }
  }

  toJSON(): DuplicatesJSON {
    return { duplicates: this.duplicates, distinct: this.distinct, examples: this.examples.map((e) => ({ ...e })) };
  }

  private tagOf(tag: string | undefined): number {
    if (tag === undefined) return EMPTY_TAG;
    const id = this.tagIds.get(tag);
    if (id !== undefined) return id;
    if (this.tagNames.length >= UNKNOWN_TAG) return UNKNOWN_TAG;
    this.tagIds.set(tag, this.tagNames.length);
    this.tagNames.push(tag);
    return this.tagNames.length - 1;
  }

  private grow(): void {
    const { hi, lo, lines, tags } = this;
    this.capacity *= 2;
    this.hi = new Uint32Array(this.capacity);
    this.lo = new Uint32Array(this.capacity);
    this.lines = new Uint32Array(this.capacity);
    this.tags = new Uint8Array(this.capacity);
    const mask = this.capacity - 1;
    for (let i = 0; i < hi.length; i++) {
      if (hi[i] === 0 && lo[i] === 0) continue;
      let s = lo[i] & mask;
      while (this.hi[s] !== 0 || this.lo[s] !== 0) s = (s + 1) & mask;
      this.hi[s] = hi[i];
      this.lo[s] = lo[i];
      this.lines[s] = lines[i];
      this.tags[s] = tags[i];
    }
  }
}
