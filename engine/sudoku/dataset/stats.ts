/**
 * Summary statistics over a record stream, for `hrm-lens data check`: clue counts (min / mean / max per grid size)
 * and a rating histogram with power-of-two buckets (0, 1, 2–3, 4–7, …; "none" for rows without a rating).
 */
import type { GridSize } from '../geometry';
import { clueCount, type DatasetRecord, recordSize } from './record';

export interface ClueStats {
  count: number;
  min: number;
  max: number;
  mean: number;
}

export interface RatingBucket {
  /** "0", "1", "2-3", "4-7", … or "none". */
  label: string;
  /** Inclusive bounds (none: -1, -1). */
  lo: number;
  hi: number;
  count: number;
}

export interface DatasetStatsJSON {
  records: number;
  clues: Partial<Record<`${GridSize}`, ClueStats>>;
  ratings: RatingBucket[];
  ratingMean: number | null;
}

function bucketOf(rating: number): number {
  const r = Math.floor(rating);
  return r <= 0 ? 0 : Math.floor(Math.log2(r)) + 1;
}

function bucketBounds(b: number): [number, number] {
  return b === 0 ? [0, 0] : [2 ** (b - 1), 2 ** b - 1];
}

export class DatasetStats {
  records = 0;
  private readonly clues = new Map<GridSize, { count: number; min: number; max: number; sum: number }>();
  private readonly buckets: number[] = [];
  private noRating = 0;
  private ratingSum = 0;
  private rated = 0;

  add(r: DatasetRecord): void {
    this.records++;
    const n = recordSize(r);
    const c = clueCount(r.puzzle);
    let s = this.clues.get(n);
    if (!s) {
      s = { count: 0, min: Infinity, max: -Infinity, sum: 0 };
      this.clues.set(n, s);
    }
    s.count++;
    s.sum += c;
    if (c < s.min) s.min = c;
    if (c > s.max) s.max = c;
    if (r.rating === undefined) {
      this.noRating++;
    } else {
      const b = bucketOf(r.rating);
      while (this.buckets.length <= b) this.buckets.push(0);
      this.buckets[b]++;
      this.ratingSum += r.rating;
      this.rated++;
    }
  }

  clueStats(): Map<GridSize, ClueStats> {
    const out = new Map<GridSize, ClueStats>();
    for (const [n, s] of [...this.clues].sort((a, b) => a[0] - b[0])) out.set(n, { count: s.count, min: s.min, max: s.max, mean: s.sum / s.count });
    return out;
  }

  ratingHistogram(): RatingBucket[] {
    const out: RatingBucket[] = this.buckets.map((count, b) => {
      const [lo, hi] = bucketBounds(b);
      return { label: lo === hi ? String(lo) : `${lo}-${hi}`, lo, hi, count };
    });
    if (this.noRating > 0) out.push({ label: 'none', lo: -1, hi: -1, count: this.noRating });
    return out;
  }

  toJSON(): DatasetStatsJSON {
    const clues: Partial<Record<`${GridSize}`, ClueStats>> = {};
    for (const [n, s] of this.clueStats()) clues[`${n}`] = { ...s, mean: Math.round(s.mean * 100) / 100 };
    return { records: this.records, clues, ratings: this.ratingHistogram(), ratingMean: this.rated > 0 ? Math.round((this.ratingSum / this.rated) * 100) / 100 : null };
  }
}
