import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ArtifactCache, CacheError, cacheKey, defaultCacheDir } from '../../runtime/cache.js';

let root: string;
beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'tskc-cache-test-'));
});
afterAll(() => {
  fs.chmodSync(root, 0o755);
  fs.rmSync(root, { recursive: true, force: true });
});

let counter = 0;
/** A fresh cache directory (not created yet) for each test. */
function freshCache(): ArtifactCache {
  return new ArtifactCache(path.join(root, `c${counter++}`));
}

/** A builder that writes `text` and counts its calls. */
function writer(text: string): ((tmp: string) => void) & { calls: number } {
  const f = Object.assign((tmp: string) => {
    f.calls++;
    fs.writeFileSync(tmp, text);
  }, { calls: 0 });
  return f;
}

const leftovers = (c: ArtifactCache): string[] => fs.readdirSync(c.dir).filter((n) => n.startsWith('.tmp-'));

describe('cacheKey', () => {
  test('is the hex sha256 of the parts, with boundaries between parts', () => {
    expect(cacheKey(['int main;', '-O3'])).toMatch(/^[0-9a-f]{64}$/);
    expect(cacheKey(['a', 'b'])).toBe(cacheKey(['a', 'b']));
    expect(cacheKey(['ab', 'c'])).not.toBe(cacheKey(['a', 'bc']));
    expect(cacheKey(['a', ''])).not.toBe(cacheKey(['a']));
    expect(new ArtifactCache(root).key(['x'])).toBe(cacheKey(['x']));
  });
});

describe('defaultCacheDir', () => {
  test('$TSKC_CACHE_DIR, then $XDG_CACHE_HOME/tskc, then ~/.cache/tskc', () => {
    expect(defaultCacheDir({ TSKC_CACHE_DIR: '/a/b', XDG_CACHE_HOME: '/x' })).toBe('/a/b');
    expect(defaultCacheDir({ TSKC_CACHE_DIR: '', XDG_CACHE_HOME: '/x' })).toBe('/x/tskc');
    expect(defaultCacheDir({ XDG_CACHE_HOME: 'relative' })).toBe(path.join(os.homedir(), '.cache', 'tskc'));
    expect(defaultCacheDir({})).toBe(path.join(os.homedir(), '.cache', 'tskc'));
  });
});

describe('ArtifactCache', () => {
  test('miss, then put, then hit; the missing directory is created', async () => {
    const c = freshCache();
    const key = c.key(['source', 'flags']);
    expect(c.get(key, 'so')).toBeUndefined();
    const build = writer('artifact bytes');
    const stored = await c.put(key, 'so', build);
    expect(stored).toBe(c.path(key, 'so'));
    expect(path.dirname(stored)).toBe(c.dir);
    expect(fs.readFileSync(stored, 'utf8')).toBe('artifact bytes');
    expect(c.get(key, 'so')).toBe(stored);
    expect(await c.getOrPut(key, 'so', build)).toBe(stored);
    expect(build.calls).toBe(1);
    expect(c.get(key, 'ptx')).toBeUndefined(); // the extension is part of the entry
    expect(leftovers(c)).toEqual([]);
  });

  test('the build gets an empty file in the cache directory ending in the extension', async () => {
    const c = freshCache();
    let seen = '';
    await c.put('k', 'so', (tmp) => {
      seen = tmp;
      expect(fs.readFileSync(tmp).length).toBe(0);
      fs.writeFileSync(tmp, 'x');
    });
    expect(path.dirname(seen)).toBe(c.dir);
    expect(seen.endsWith('.so')).toBe(true);
    expect(fs.existsSync(seen)).toBe(false); // renamed into place
  });

  test('a truncated entry is a miss and is rebuilt', async () => {
    const c = freshCache();
    const stored = await c.put('k', 'so', writer('0123456789'));
    fs.truncateSync(stored, 4);
    expect(c.get('k', 'so')).toBeUndefined();
    const build = writer('0123456789');
    expect(await c.getOrPut('k', 'so', build)).toBe(stored);
    expect(build.calls).toBe(1);
    expect(fs.readFileSync(stored, 'utf8')).toBe('0123456789');
    expect(c.get('k', 'so')).toBe(stored);
  });

  test('a garbage entry of the right length is a miss and is rebuilt', async () => {
    const c = freshCache();
    const stored = await c.put('k', 'so', writer('0123456789'));
    fs.writeFileSync(stored, 'garbage!!!');
    expect(c.get('k', 'so')).toBeUndefined();
    const build = writer('0123456789');
    await c.getOrPut('k', 'so', build);
    expect(build.calls).toBe(1);
    expect(c.get('k', 'so')).toBe(stored);
  });

  test('a garbage, missing or foreign sidecar is a miss', async () => {
    const c = freshCache();
    const stored = await c.put('k', 'so', writer('payload'));
    const meta = fs.readFileSync(`${stored}.meta`, 'utf8');
    fs.writeFileSync(`${stored}.meta`, '{"format":1,');
    expect(c.get('k', 'so')).toBeUndefined();
    // Valid JSON that is no object: it broke every later run (reading .format of null).
    for (const json of ['null', '3', '"x"', '[]']) {
      fs.writeFileSync(`${stored}.meta`, json);
      expect(c.get('k', 'so')).toBeUndefined();
    }
    fs.rmSync(`${stored}.meta`);
    expect(c.get('k', 'so')).toBeUndefined();
    // Another key's valid sidecar copied over this one must not validate it.
    const other = await c.put('k2', 'so', writer('payload'));
    fs.copyFileSync(`${other}.meta`, `${stored}.meta`);
    expect(c.get('k', 'so')).toBeUndefined();
    fs.writeFileSync(`${stored}.meta`, meta);
    expect(c.get('k', 'so')).toBe(stored);
    // Two writers interleaved (the payload of one, then the sidecar of the other): a miss, not a load.
    await c.put('k', 'so', writer('payload of another build'));
    fs.writeFileSync(`${stored}.meta`, meta);
    expect(c.get('k', 'so')).toBeUndefined();
  });

  test('a put removes temporary files a killed writer left an hour ago, not younger ones', async () => {
    const c = freshCache();
    await c.put('k', 'so', writer('payload'));
    const [old, young] = ['.tmp-killed-1.so', '.tmp-building-2.so'].map((n) => path.join(c.dir, n));
    for (const f of [old!, young!]) fs.writeFileSync(f, 'half a compile');
    const twoHoursAgo = (Date.now() - 2 * 3600_000) / 1000;
    fs.utimesSync(old!, twoHoursAgo, twoHoursAgo);
    await c.put('k2', 'so', writer('payload'));
    expect(leftovers(c)).toEqual(['.tmp-building-2.so']);
  });

  test('a failing build leaves no entry and no temporary file', async () => {
    const c = freshCache();
    await expect(
      c.put('k', 'so', (tmp) => {
        fs.writeFileSync(tmp, 'half');
        throw new Error('compiler exploded');
      }),
    ).rejects.toThrow('compiler exploded');
    expect(c.get('k', 'so')).toBeUndefined();
    expect(leftovers(c)).toEqual([]);
  });

  test('concurrent builds of one entry leave one valid result', async () => {
    const c = freshCache();
    const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 1));
    const builder = (text: string) => async (tmp: string) => {
      await tick();
      fs.writeFileSync(tmp, text.slice(0, 3));
      await tick();
      fs.appendFileSync(tmp, text.slice(3));
    };
    const contents = ['first result', 'second result, longer', 'third'];
    await Promise.all(contents.map((t) => c.put('k', 'so', builder(t))));
    const stored = c.get('k', 'so');
    expect(stored).toBeDefined();
    expect(contents).toContain(fs.readFileSync(stored!, 'utf8'));
    expect(leftovers(c)).toEqual([]);
  });

  test('bad keys and extensions cannot name files outside the directory', () => {
    const c = freshCache();
    expect(() => c.path('../x', 'so')).toThrow(CacheError);
    expect(() => c.path('k', 'so/../../x')).toThrow(/bad cache extension/);
  });

  test('a directory that cannot be created gives a CacheError naming it', async () => {
    const blocker = path.join(root, 'a-file');
    fs.writeFileSync(blocker, '');
    const dir = path.join(blocker, 'cache');
    const c = new ArtifactCache(dir);
    expect(c.get('k', 'so')).toBeUndefined();
    const err = await c.put('k', 'so', writer('x')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CacheError);
    expect((err as CacheError).message).toContain(`cannot create the tskc cache directory ${dir}`);
    expect((err as CacheError).message).toContain('TSKC_CACHE_DIR');
    expect((err as CacheError).dir).toBe(dir);
  });
});

/**
 * A directory this process cannot create files in: a chmod 555 one, or, where that does not stop us
 * (root), /sys if it refuses us. Decided before the tests are collected, so a skip is visible.
 */
function readOnlyDir(): { dir?: string; why?: string } {
  const refuses = (dir: string): boolean => {
    const probe = path.join(dir, `.tskc-probe-${process.pid}`);
    try {
      fs.writeFileSync(probe, '');
      fs.rmSync(probe);
      return false;
    } catch {
      return true;
    }
  };
  const mine = fs.mkdtempSync(path.join(os.tmpdir(), 'tskc-readonly-'));
  fs.chmodSync(mine, 0o555);
  if (refuses(mine)) return { dir: mine };
  fs.chmodSync(mine, 0o755);
  fs.rmSync(mine, { recursive: true });
  if (fs.existsSync('/sys') && refuses('/sys')) return { dir: '/sys' };
  return { why: 'this process can write to a chmod 555 directory and to /sys, so no read-only directory is at hand' };
}

const readOnly = readOnlyDir();
if (readOnly.why !== undefined) process.stderr.write(`tskc: skipping the read-only cache directory test: ${readOnly.why}\n`);
const testReadOnly = readOnly.dir !== undefined ? test : test.skip;

describe('ArtifactCache in a read-only directory', () => {
  afterAll(() => {
    if (readOnly.dir !== undefined && readOnly.dir !== '/sys') {
      fs.chmodSync(readOnly.dir, 0o755);
      fs.rmSync(readOnly.dir, { recursive: true });
    }
  });

  testReadOnly('put gives a CacheError naming the directory; get misses', async () => {
    const c = new ArtifactCache(readOnly.dir!);
    expect(c.get('k', 'so')).toBeUndefined();
    const build = writer('x');
    const err = await c.put('k', 'so', build).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CacheError);
    expect((err as Error).message).toContain(`cannot write to the tskc cache directory ${readOnly.dir}`);
    expect(build.calls).toBe(0);
  });
});
