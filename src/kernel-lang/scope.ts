/**
 * The state one run of a kernel body shares: whether it is being traced into Kernel IR or run as plain
 * JavaScript on numbers (the reference), the statement lists being built, fresh names, and the bounds of
 * the dims known only at run time.
 */
import type { Stmt } from '../kernels/ir.js';
import type { SymbolRanges } from '../kernels/extent.js';
import * as sym from '../ir/symbolic.js';
import { KernelTraceError, userSite } from './site.js';

export class Scope {
  private readonly blocks: Stmt[][] = [[]];
  private counter = 0;
  /** how many sequential loops and conditionals enclose the current statement */
  sequentialDepth = 0;

  constructor(
    /** the kernel's name, for errors */
    readonly kernel: string,
    /** true: build Kernel IR; false: compute on numbers */
    readonly tracing: boolean,
    /** the bounds of the dims known only at run time the kernel's shapes hold */
    readonly ranges: SymbolRanges = {},
  ) {}

  /** The least and greatest values of a shape expression over the run-time dims' bounds. */
  bounds(e: sym.SymLike): sym.Range {
    return sym.bounds(e, this.ranges);
  }

  /** Throws a KernelTraceError naming the user's file and line. */
  fail(message: string): never {
    throw new KernelTraceError(this.kernel, userSite(), message);
  }

  emit(stmt: Stmt): void {
    this.blocks[this.blocks.length - 1].push(stmt);
  }

  /** The statements `build` emits, collected into their own list. */
  block(build: () => void): Stmt[] {
    this.blocks.push([]);
    build();
    return this.blocks.pop()!;
  }

  /** The kernel body built so far. */
  body(): Stmt[] {
    return this.blocks[0];
  }

  fresh(prefix: string): string {
    return `${prefix}${this.counter++}`;
  }
}
