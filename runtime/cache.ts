/**
 * The on-disk cache of compiled artifacts (shared objects, PTX, ...), keyed by a content hash of
 * everything that decides the artifact: generated source, flags, compiler and tskc versions.
 *
 * An entry is two files in the cache directory:
 *   <key>.<ext>        the payload, exactly as the build wrote it (a .so stays loadable in place)
 *   <key>.<ext>.meta   JSON: format version, key, ext, payload length and sha256
 * `get` returns the payload's path only when the payload matches its sidecar, so a truncated or
 * garbled entry (a crash mid-write on a filesystem that reorders, a disk filling up, a stray edit)
 * reads as a miss and the caller rebuilds it; it is never loaded.
 *
 * Writes are atomic: each file is written under a temporary name in the same directory, fsynced, and
 * renamed over the final name, payload first, sidecar last (the sidecar is the commit). Processes
 * building the same entry at once each rename complete files, so the last rename wins and every state
 * a reader can see is either a valid entry or one that fails verification (payload of one writer,
 * sidecar of the other) and is rebuilt.
 */
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const FORMAT = 1;
/** Age past which a temporary file in the cache directory is taken for abandoned (removeStaleTemps). */
const STALE_TEMP_MS = 60 * 60 * 1000;

export class CacheError extends Error {
  /** The cache directory the failure is about. */
  readonly dir: string;

  constructor(dir: string, message: string) {
    super(message);
    this.name = 'CacheError';
    this.dir = dir;
  }
}

/**
 * The cache directory: $TSKC_CACHE_DIR, else $XDG_CACHE_HOME/tskc, else ~/.cache/tskc. Empty
 * variables count as unset, and a relative XDG_CACHE_HOME is ignored, as the XDG spec says.
 */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const own = env['TSKC_CACHE_DIR'];
  if (own !== undefined && own !== '') return path.resolve(own);
  const xdg = env['XDG_CACHE_HOME'];
  if (xdg !== undefined && path.isAbsolute(xdg)) return path.join(xdg, 'tskc');
  return path.join(os.homedir(), '.cache', 'tskc');
}

/**
 * cacheKey(parts): the sha256 (hex) of a list of strings. Each part is hashed with its length first,
 * so ['ab', 'c'] and ['a', 'bc'] differ.
 */
export function cacheKey(parts: readonly string[]): string {
  const h = createHash('sha256');
  for (const p of parts) {
    const bytes = Buffer.from(p, 'utf8');
    h.update(`${bytes.length}:`);
    h.update(bytes);
  }
  return h.digest('hex');
}

interface Meta {
  readonly format: number;
  readonly key: string;
  readonly ext: string;
  readonly length: number;
  readonly sha256: string;
}

export class ArtifactCache {
  readonly dir: string;

  /** A cache in `dir` (default: defaultCacheDir()). Nothing touches the disk until get or put. */
  constructor(dir: string = defaultCacheDir()) {
    this.dir = path.resolve(dir);
  }

  key(parts: readonly string[]): string {
    return cacheKey(parts);
  }

  /** Where the payload of entry (key, ext) lives; it exists and is valid only if `get` says so. */
  path(key: string, ext: string): string {
    checkName(this.dir, key, ext);
    return path.join(this.dir, `${key}.${ext}`);
  }

  /** The path of the verified payload of (key, ext), or undefined on a miss (absent, truncated or corrupt). */
  get(key: string, ext: string): string | undefined {
    const file = this.path(key, ext);
    let meta: Partial<Meta>;
    let payload: Buffer;
    try {
      meta = JSON.parse(fs.readFileSync(`${file}.meta`, 'utf8')) as Partial<Meta>;
      payload = fs.readFileSync(file);
    } catch {
      return undefined; // missing or unreadable: a miss; put() reports a directory it cannot write
    }
    // A sidecar of valid JSON that is no object (null, 3, "x") is as corrupt as one of garbage.
    const valid =
      typeof meta === 'object' && meta !== null && meta.format === FORMAT && meta.key === key && meta.ext === ext && meta.length === payload.length && meta.sha256 === sha256(payload);
    return valid ? file : undefined;
  }

  /**
   * Builds entry (key, ext) and stores it atomically, replacing any entry there. `build` gets the path of
   * a fresh empty file in the cache directory (ending in `.${ext}`) and must write the artifact there,
   * e.g. by running a compiler with `-o tmpPath`. Returns the payload's final path. An error from `build`
   * is rethrown as is (after removing the temporary file); a directory that cannot be created or
   * written gives a CacheError naming it.
   */
  async put(key: string, ext: string, build: (tmpPath: string) => Promise<void> | void): Promise<string> {
    const file = this.path(key, ext);
    this.ensureDir();
    const tmp = this.reserveTemp(`${key}.${ext}`);
    try {
      await build(tmp);
      this.fsStep('store the artifact', () => {
        syncFile(tmp);
        fs.renameSync(tmp, file);
      });
    } catch (e) {
      removeQuietly(tmp);
      throw e;
    }
    // The payload at `file` may already be another writer's, if one raced us: then the sidecar
    // written here does not match it and the next get() misses; nothing invalid is ever returned.
    const payload = this.fsStep('read the stored artifact', () => fs.readFileSync(file));
    const meta: Meta = { format: FORMAT, key, ext, length: payload.length, sha256: sha256(payload) };
    const metaTmp = this.reserveTemp(`${key}.${ext}.meta`);
    try {
      this.fsStep('store the artifact', () => {
        fs.writeFileSync(metaTmp, `${JSON.stringify(meta)}\n`);
        syncFile(metaTmp);
        fs.renameSync(metaTmp, `${file}.meta`);
      });
    } catch (e) {
      removeQuietly(metaTmp);
      throw e;
    }
    syncDir(this.dir);
    this.removeStaleTemps();
    return file;
  }

  /**
   * Removes temporary files that no writer will finish: those of a process killed mid-build (a compile
   * times out after 5 minutes, so one an hour old is abandoned). Best effort: another process may
   * remove the same file first.
   */
  private removeStaleTemps(): void {
    const before = Date.now() - STALE_TEMP_MS;
    let names: string[];
    try {
      names = fs.readdirSync(this.dir).filter((n) => n.startsWith('.tmp-'));
    } catch {
      return;
    }
    for (const n of names) {
      const p = path.join(this.dir, n);
      try {
        if (fs.statSync(p).mtimeMs < before) fs.rmSync(p, { force: true });
      } catch {
        // gone already, or not ours to remove
      }
    }
  }

  /** The verified entry if there is one, else put(key, ext, build). */
  async getOrPut(key: string, ext: string, build: (tmpPath: string) => Promise<void> | void): Promise<string> {
    return this.get(key, ext) ?? (await this.put(key, ext, build));
  }

  private ensureDir(): void {
    try {
      fs.mkdirSync(this.dir, { recursive: true });
    } catch (e) {
      throw new CacheError(this.dir, `cannot create the tskc cache directory ${this.dir}: ${reason(e)}. ${HINT}`);
    }
  }

  /** Creates an empty file with a unique name (same directory, so rename is atomic) and returns its path. */
  private reserveTemp(finalName: string): string {
    const ext = path.extname(finalName); // kept last: some tools choose the output format by extension
    const name = `.tmp-${path.basename(finalName, ext)}-${process.pid}-${randomBytes(6).toString('hex')}${ext}`;
    const tmp = path.join(this.dir, name);
    try {
      fs.closeSync(fs.openSync(tmp, 'wx'));
    } catch (e) {
      throw new CacheError(this.dir, `cannot write to the tskc cache directory ${this.dir}: ${reason(e)}. ${HINT}`);
    }
    return tmp;
  }

  private fsStep<T>(what: string, step: () => T): T {
    try {
      return step();
    } catch (e) {
      throw new CacheError(this.dir, `cannot ${what} in the tskc cache directory ${this.dir}: ${reason(e)}. ${HINT}`);
    }
  }
}

const HINT = 'Set TSKC_CACHE_DIR to a writable directory';

/** Keys are what cacheKey gives (or any other plain name); extensions one plain word, so names cannot escape the directory. */
function checkName(dir: string, key: string, ext: string): void {
  if (!/^[A-Za-z0-9_-]{1,128}$/.test(key)) throw new CacheError(dir, `bad cache key '${key}': expected letters, digits, '_' or '-'`);
  if (!/^[A-Za-z0-9_]{1,16}$/.test(ext)) throw new CacheError(dir, `bad cache extension '${ext}': expected letters, digits or '_'`);
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function syncFile(file: string): void {
  const fd = fs.openSync(file, 'r+');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Makes the renames durable. Best effort: some platforms cannot open or fsync a directory. */
function syncDir(dir: string): void {
  try {
    const fd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    // the entry is complete either way; only its durability across a power loss is less certain
  }
}

function removeQuietly(file: string): void {
  try {
    fs.rmSync(file, { force: true });
  } catch {
    // nothing more to do: a stray temporary file is harmless
  }
}

function reason(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
