/**
 * Runs a pipeline of passes over a kernel. Each pass takes a kernel and returns a new one (the input
 * is left untouched), so the IR after any pass can be dumped and compared. With `verifyEach` (always
 * on in tests) the verifier runs after every pass and names the pass that broke the IR.
 */
import { IrError } from '../ir/errors.js';
import type { Kernel } from '../ir/ir.js';
import { printKernel } from '../ir/printer.js';
import { verify } from '../ir/verifier.js';

export interface Pass {
  /** A short name, as `tskc ir --after NAME` takes it. */
  readonly name: string;
  readonly run: (kernel: Kernel) => Kernel;
}

export interface PassManagerOptions {
  /** Verify the kernel after every pass. */
  readonly verifyEach?: boolean;
  /** Receives the printed IR after the named passes ('*' for all). */
  readonly dumpAfter?: readonly string[];
  readonly dump?: (passName: string, irText: string) => void;
}

export class PassManager {
  constructor(
    readonly passes: readonly Pass[],
    private readonly options: PassManagerOptions = {},
  ) {
    const names = passes.map((p) => p.name);
    const unknown = (options.dumpAfter ?? []).filter((n) => n !== '*' && !names.includes(n));
    if (unknown.length > 0) throw new IrError('structure', `no pass named ${unknown.join(', ')} (passes: ${names.join(', ')})`);
  }

  run(kernel: Kernel): Kernel {
    let k = kernel;
    for (const pass of this.passes) {
      k = pass.run(k);
      if (this.options.verifyEach) {
        try {
          verify(k);
        } catch (e) {
          if (!(e instanceof IrError)) throw e;
          throw new IrError(e.code, `after pass ${pass.name}: ${e.message}`);
        }
      }
      const dumpAfter = this.options.dumpAfter ?? [];
      if (dumpAfter.includes('*') || dumpAfter.includes(pass.name)) this.options.dump?.(pass.name, printKernel(k));
    }
    return k;
  }
}
