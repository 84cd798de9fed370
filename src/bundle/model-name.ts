/**
 * A model's name is its URL path segment when served and a file-name stem when deployed, so `kiln
 * compile --name` and `kiln deploy` hold it to the same rule.
 */
const SAFE_NAME = /^(?!\.+$)[\w.-]+$/;

export const SAFE_MODEL_NAME_RULE = "letters, digits, '_', '.' and '-', not only dots";

/** Whether `name` is safe as a file name and a path segment (SAFE_MODEL_NAME_RULE: no `/`, not `..`). */
export function isSafeModelName(name: string): boolean {
  return SAFE_NAME.test(name);
}
