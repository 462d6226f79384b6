/**
 * NVRTC through koffi: CUDA C source to a cubin for the device's own sm_XY, with the CUDA headers on
 * the include path. A compilation error is an NvrtcError carrying NVRTC's log.
 */
import { findCudaInclude, openCudaLibrary } from './libraries.js';

export class NvrtcError extends Error {
  constructor(
    message: string,
    readonly log: string,
  ) {
    super(log ? `${message}\n${log}` : message);
    this.name = 'NvrtcError';
  }
}

type Fn = (...args: unknown[]) => number;
let api: { compile(source: string, name: string, capability: readonly [number, number], extraOptions?: readonly string[]): Uint8Array; version: string } | undefined;

export function nvrtc(): NonNullable<typeof api> {
  if (api) return api;
  const lib = openCudaLibrary('libnvrtc.so');
  const f = (decl: string): Fn => lib.func(decl) as Fn;
  const nvrtcGetErrorString = lib.func('const char *nvrtcGetErrorString(int result)') as (r: number) => string;
  const nvrtcVersion = f('int nvrtcVersion(_Out_ int *major, _Out_ int *minor)');
  const nvrtcCreateProgram = f('int nvrtcCreateProgram(_Out_ void **prog, const char *src, const char *name, int numHeaders, void *headers, void *includeNames)');
  const nvrtcCompileProgram = f('int nvrtcCompileProgram(void *prog, int numOptions, const char **options)');
  const nvrtcGetProgramLogSize = f('int nvrtcGetProgramLogSize(void *prog, _Out_ size_t *size)');
  const nvrtcGetProgramLog = f('int nvrtcGetProgramLog(void *prog, _Out_ uint8_t *log)');
  const nvrtcGetCUBINSize = f('int nvrtcGetCUBINSize(void *prog, _Out_ size_t *size)');
  const nvrtcGetCUBIN = f('int nvrtcGetCUBIN(void *prog, _Out_ uint8_t *cubin)');
  const nvrtcDestroyProgram = f('int nvrtcDestroyProgram(_Inout_ void **prog)');
  const check = (call: string, code: number) => {
    if (code !== 0) throw new NvrtcError(`${call} failed: ${nvrtcGetErrorString(code)}`, '');
  };
  const major = [0];
  const minor = [0];
  check('nvrtcVersion', nvrtcVersion(major, minor));
  const include = findCudaInclude();
  api = {
    version: `${major[0]}.${minor[0]}`,
    compile(source, name, [ccMajor, ccMinor], extraOptions = []) {
      const prog: unknown[] = [null];
      check('nvrtcCreateProgram', nvrtcCreateProgram(prog, source, name, 0, null, null));
      try {
        const options = [`--gpu-architecture=sm_${ccMajor}${ccMinor}`, '-std=c++17', '--fmad=false', ...(include ? [`-I${include}`] : []), ...extraOptions];
        const status = nvrtcCompileProgram(prog[0], options.length, options);
        const logSize = [0];
        check('nvrtcGetProgramLogSize', nvrtcGetProgramLogSize(prog[0], logSize));
        const logBuf = new Uint8Array(Number(logSize[0]));
        check('nvrtcGetProgramLog', nvrtcGetProgramLog(prog[0], logBuf));
        const log = new TextDecoder().decode(logBuf.subarray(0, Math.max(0, logBuf.indexOf(0)))).trim();
        if (status !== 0) throw new NvrtcError(`NVRTC could not compile ${name}: ${nvrtcGetErrorString(status)}`, log);
        const size = [0];
        check('nvrtcGetCUBINSize', nvrtcGetCUBINSize(prog[0], size));
        const cubin = new Uint8Array(Number(size[0]));
        check('nvrtcGetCUBIN', nvrtcGetCUBIN(prog[0], cubin));
        return cubin;
      } finally {
        nvrtcDestroyProgram(prog);
      }
    },
  };
  return api;
}
