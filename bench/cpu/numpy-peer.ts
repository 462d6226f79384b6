/**
 * numpy_peer.py as a child process that times one work when asked, so that each peer runs right after
 * the tskc kernel it is compared with: this VM's speed drifts by a third over minutes, and peers timed
 * all at once before the kernels paired a fast numpy with a slow tskc, or the reverse.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export class NumpyPeer {
  private constructor(
    private readonly child: ChildProcessWithoutNullStreams,
    private readonly lines: AsyncIterator<string>,
    private readonly stderr: string[],
    /** numpy's version, as the peer reports it. */
    readonly version: string,
  ) {}

  /** Starts numpy_peer.py (in `dir`) with python3 from PATH. */
  static async start(dir: string): Promise<NumpyPeer> {
    const child = spawn('python3', [join(dir, 'numpy_peer.py')], { stdio: ['pipe', 'pipe', 'pipe'] });
    const stderr: string[] = [];
    child.stderr.setEncoding('utf8').on('data', (s: string) => stderr.push(s));
    const failed = new Promise<never>((_, reject) => child.on('error', (e) => reject(new Error(`bench: cannot start python3 for the numpy peer: ${e.message}`))));
    const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    const first = await Promise.race([lines.next(), failed]);
    const peer = new NumpyPeer(child, lines, stderr, '');
    const hello = peer.parse(first);
    return new NumpyPeer(child, lines, stderr, String(hello['numpy']));
  }

  /** The median of the peer's runs of `key`, in milliseconds; NaN where it cannot run (GeGLU's needs scipy). */
  async ms(key: string): Promise<number> {
    this.child.stdin.write(`${key}\n`);
    const answer = this.parse(await this.lines.next());
    if (answer['key'] !== key) throw new Error(`bench: the numpy peer answered ${JSON.stringify(answer)} to ${key}`);
    if (typeof answer['error'] === 'string') throw new Error(`bench: the numpy peer: ${answer['error']}`);
    return typeof answer['seconds'] === 'number' ? 1000 * answer['seconds'] : NaN;
  }

  close(): void {
    this.child.stdin.end();
  }

  private parse(line: IteratorResult<string>): Record<string, unknown> {
    if (line.done) throw new Error(`bench: the numpy peer (python3 bench/cpu/numpy_peer.py, which needs numpy) exited:\n${this.stderr.join('')}`);
    return JSON.parse(line.value) as Record<string, unknown>;
  }
}
