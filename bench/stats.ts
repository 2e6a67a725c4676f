/** Middle value; the mean of the two middle values for an even count. */
export function median(values: number[]): number {
  if (values.length === 0) return Number.NaN

  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

/** Nearest-rank percentile, `p` in 0..100. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN

  const sorted = [...values].sort((a, b) => a - b)
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)))
  return sorted[rank - 1]
}

/** The same list starting at position `by`, wrapping round. */
export function rotate<T>(items: T[], by: number): T[] {
  const shift = by % items.length
  return [...items.slice(shift), ...items.slice(0, shift)]
}
