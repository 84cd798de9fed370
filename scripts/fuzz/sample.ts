/** `count` of a campaign's cases, picked by a seeded shuffle (all of them, in order, when count is undefined or covers them). */
export function seededSample<T>(all: readonly T[], count: number | undefined, rand: () => number): T[] {
  if (count === undefined || count >= all.length) return [...all];
  const out = [...all];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out.slice(0, count);
}
