/**
 * The profiling build of a bundle's model.wasm, made at bench time from the module itself (no ONNX
 * needed): every call in the exported `run` goes through a wrapper that calls the host's
 * `kiln_profile.enter()` before and `kiln_profile.exit(site)` after, so the host times each call site.
 * Kernels stay the same functions, compiled the same way; only `run` and the wrappers are new.
 *
 * Call sites, not functions, are timed: binaryen merges kernels whose bodies are identical (e.g. two
 * concats at the same offsets) into one function that `run` calls twice, and a kernel may be called
 * more than once (in chunks); `attributeCallSites` maps the sites back to the manifest's kernels.
 */
import binaryen from 'binaryen';
import type { KernelInfo } from '../../bundle/manifest.js';

export const PROFILE_IMPORT_MODULE = 'kiln_profile';

const MODULE_FEATURES =
  binaryen.Features.MutableGlobals |
  binaryen.Features.NontrappingFPToInt |
  binaryen.Features.SignExt |
  binaryen.Features.SIMD128 |
  binaryen.Features.BulkMemory |
  binaryen.Features.Multivalue |
  binaryen.Features.RelaxedSIMD;

/** binaryen.js has the expression setters, its typings do not */
interface BinaryenCall {
  Call: { setTarget(call: binaryen.ExpressionRef, target: string): void };
}

export interface InstrumentedModule {
  bytes: Uint8Array<ArrayBuffer>;
  /** the function each timed call site calls, in the order `run` reaches them */
  callees: string[];
  /** every function name in the module (a kernel merged into another has none of its own) */
  functions: Set<string>;
}

/** Rewrite `wasm` so that each call in the export `runExport` is timed (see the file comment). */
export function instrumentRun(wasm: Uint8Array, runExport: string): InstrumentedModule {
  const mod = binaryen.readBinary(wasm);
  // what Kiln's code generator may use (plus room for more); not Features.All, whose newest proposals
  // change the binary encoding of imports beyond what engines load
  mod.setFeatures(MODULE_FEATURES);
  const debugInfo = binaryen.getDebugInfo();
  try {
    const exported = mod.getExport(runExport);
    if (!exported) throw new Error(`the module exports no "${runExport}" function`);
    const runName = binaryen.getExportInfo(exported).value;
    const functions = new Set<string>();
    for (let i = 0; i < mod.getNumFunctions(); i++)
      functions.add(binaryen.getFunctionInfo(mod.getFunctionByIndex(i)).name);

    const enter = uniqueName(functions, 'kiln_profile.enter');
    const exit = uniqueName(functions, 'kiln_profile.exit');
    mod.addFunctionImport(enter, PROFILE_IMPORT_MODULE, 'enter', binaryen.none, binaryen.none);
    mod.addFunctionImport(exit, PROFILE_IMPORT_MODULE, 'exit', binaryen.i32, binaryen.none);

    const callees: string[] = [];
    for (const call of callsIn(binaryen.getFunctionInfo(mod.getFunction(runName)).body)) {
      const target = (binaryen.getExpressionInfo(call) as binaryen.CallInfo).target;
      const site = callees.length;
      callees.push(target);
      const wrapper = uniqueName(functions, `kiln_profile.site${site}`);
      addWrapper(mod, wrapper, target, site, enter, exit);
      (binaryen as unknown as BinaryenCall).Call.setTarget(call, wrapper);
    }
    if (!mod.validate()) throw new Error('the instrumented module does not validate');
    binaryen.setDebugInfo(true); // keep the name section: kernels stay named in V8 profiles too
    return { bytes: new Uint8Array(mod.emitBinary()), callees, functions };
  } finally {
    binaryen.setDebugInfo(debugInfo);
    mod.dispose();
  }
}

/** `(func $wrapper (params…) (results…) enter() target(params…) exit(site))` */
function addWrapper(
  mod: binaryen.Module,
  wrapper: string,
  target: string,
  site: number,
  enter: string,
  exit: string,
): void {
  const info = binaryen.getFunctionInfo(mod.getFunction(target));
  const params = binaryen.expandType(info.params);
  const call = mod.call(
    target,
    params.map((t, i) => mod.local.get(i, t)),
    info.results,
  );
  const before = mod.call(enter, [], binaryen.none);
  const after = mod.call(exit, [mod.i32.const(site)], binaryen.none);
  const hasResult = info.results !== binaryen.none;
  const resultLocal = params.length;
  const body = hasResult
    ? mod.block(
        null,
        [before, mod.local.set(resultLocal, call), after, mod.local.get(resultLocal, info.results)],
        info.results,
      )
    : mod.block(null, [before, call, after], binaryen.none);
  mod.addFunction(wrapper, info.params, info.results, hasResult ? [info.results] : [], body);
}

/** The direct calls inside an expression, in the order they run (operands before the call). */
function callsIn(root: binaryen.ExpressionRef): binaryen.ExpressionRef[] {
  const found: binaryen.ExpressionRef[] = [];
  const visit = (expr: binaryen.ExpressionRef): void => {
    if (!expr) return;
    const info = binaryen.getExpressionInfo(expr) as unknown as Record<string, unknown>;
    for (const child of childrenOf(info)) visit(child);
    if (info.id === binaryen.CallId) found.push(expr);
  };
  visit(root);
  return found;
}

/** Children of the expression kinds a `run` function is made of; other kinds are not searched. */
function childrenOf(info: Record<string, unknown>): binaryen.ExpressionRef[] {
  const refs = (...keys: string[]) => keys.map((k) => info[k] as binaryen.ExpressionRef);
  switch (info.id) {
    case binaryen.BlockId:
      return info.children as binaryen.ExpressionRef[];
    case binaryen.CallId:
      return info.operands as binaryen.ExpressionRef[];
    case binaryen.LoopId:
      return refs('body');
    case binaryen.IfId:
      return refs('condition', 'ifTrue', 'ifFalse');
    case binaryen.BreakId:
    case binaryen.SwitchId:
      return refs('value', 'condition');
    case binaryen.DropId:
    case binaryen.LocalSetId:
    case binaryen.GlobalSetId:
    case binaryen.ReturnId:
    case binaryen.UnaryId:
      return refs('value');
    case binaryen.BinaryId:
      return refs('left', 'right');
    case binaryen.SelectId:
      return refs('ifTrue', 'ifFalse', 'condition');
    case binaryen.LoadId:
      return refs('ptr');
    case binaryen.StoreId:
      return refs('ptr', 'value');
    default:
      return [];
  }
}

function uniqueName(taken: Set<string>, base: string): string {
  let name = base;
  for (let i = 1; taken.has(name); i++) name = `${base}.${i}`;
  taken.add(name);
  return name;
}

/**
 * The manifest kernel (index into `kernels`, in run order) each call site runs, or -1 for a call to
 * something else (a helper). Sites and kernels are matched in order: a site runs the next kernel when
 * it calls that kernel's function — or when that kernel's function was merged away and the site calls
 * a function no later kernel owns (the merged survivor); a repeated call to the kernel just matched is
 * another chunk of it; otherwise the first later kernel with that function (kernels skipped on the
 * way were never called).
 */
export function attributeCallSites(
  callees: string[],
  kernels: Pick<KernelInfo, 'function'>[],
  functions: Set<string>,
): number[] {
  const lastOwner = new Map<string, number>();
  kernels.forEach((k, i) => lastOwner.set(k.function, i));
  let next = 0;
  let last = -1;
  let lastCallee: string | undefined;
  return callees.map((callee) => {
    let at = -1;
    const expected = kernels[next]?.function;
    if (
      expected !== undefined &&
      (expected === callee || (!functions.has(expected) && (lastOwner.get(callee) ?? -1) < next))
    )
      at = next;
    else if (last >= 0 && callee === lastCallee) at = last;
    else {
      const later = kernels.findIndex((k, i) => i >= next && k.function === callee);
      if (later >= 0) at = later;
    }
    if (at < 0) return -1;
    if (at >= next) next = at + 1;
    last = at;
    lastCallee = callee;
    return at;
  });
}
