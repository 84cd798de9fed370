/** Checks shared by the Kiln constructs' props. */

/** Throws when both halves of an `existingX` / `xProps` pair are given: which one wins would be a guess. */
export function rejectBoth<P extends object>(
  construct: string,
  props: P,
  existing: keyof P,
  create: keyof P,
): void {
  if (props[existing] !== undefined && props[create] !== undefined)
    throw new Error(
      `${construct}: give either ${String(existing)} or ${String(create)}, not both (${String(existing)} is used as is; ${String(create)} configures a new one)`,
    );
}
