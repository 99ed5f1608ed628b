/**
 * A local cluster of node *processes* on 127.0.0.1: provisioned keys in a folder, one config file
 * and one `hearsay start` process per node, driven through the IPC control channel. The demo and
 * the real-process tests both use it, so what the tests check is what a newcomer sees.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { HearsayConfig } from '../config.js';
import { HearsayError } from '../errors.js';
import { toHex } from '../identity/bytes.js';
import type { ControlEvent, ControlRequest } from './control-channel.js';
import { nodeDir, provisionCluster } from './provision.js';

export interface ProcessNodeSpec {
  readonly name: string;
  readonly tenant?: string;
  readonly roles?: readonly string[];
}

export interface ProcessClusterOptions {
  readonly nodes: readonly ProcessNodeSpec[];
  readonly cluster?: string;
  /** Config fields for every node (profile defaults to local). */
  readonly config?: Partial<HearsayConfig>;
  /** Existing folder to use; by default a new temporary one, removed by `destroy()`. */
  readonly dir?: string;
}

export class ProcessNode {
  address = '';
  id = '';
  pid = 0;
  /** The admin API's base URL from the ready event (null unless the config enables it). */
  admin: string | null = null;
  events: ControlEvent[] = [];
  private waiters: Array<(e: ControlEvent) => boolean> = [];
  private proc: ChildProcess | null = null;
  private exitPromise: Promise<number | null> = Promise.resolve(null);
  private nextRef = 1;

  constructor(
    readonly name: string,
    readonly configPath: string,
    readonly logPath: string,
  ) {}

  get running(): boolean {
    return this.proc !== null && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** Starts the process and waits for it to report ready. */
  async start(timeoutMs = 15_000): Promise<void> {
    // From src/cli (tests) or dist/cli (the built CLI), the built entry point is at the same place.
    const mainJs = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
    const logFd = openSync(this.logPath, 'a');
    const proc = fork(mainJs, ['start', '--config', this.configPath], { stdio: ['ignore', logFd, logFd, 'ipc'] });
    closeSync(logFd);
    this.proc = proc;
    this.events = [];
    this.waiters = [];
    this.exitPromise = new Promise((resolve) => proc.once('exit', (code) => resolve(code)));
    proc.on('message', (msg) => {
      const e = msg as ControlEvent;
      this.events.push(e);
      this.waiters = this.waiters.filter((w) => !w(e));
    });
    // A node process must never outlive the process that started it.
    process.once('exit', () => {
      if (proc.exitCode === null) proc.kill('SIGKILL');
    });
    const ready = await this.waitFor((e) => e.type === 'ready', timeoutMs);
    if (ready === null || ready.type !== 'ready') {
      proc.kill('SIGKILL');
      throw new HearsayError('HEARSAY_ERR_TIMEOUT', `${this.name} did not start within ${timeoutMs} ms; see ${this.logPath}`);
    }
    this.address = ready.address;
    this.id = ready.id;
    this.pid = ready.pid;
    this.admin = ready.admin;
  }

  send(req: ControlRequest): void {
    if (this.proc !== null && this.proc.connected) this.proc.send(req);
  }

  ref(): number {
    return this.nextRef++;
  }

  /** The first event (already received or future) that matches, or null after `timeoutMs`. */
  waitFor(match: (e: ControlEvent) => boolean, timeoutMs: number): Promise<ControlEvent | null> {
    const seen = this.events.find(match);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        resolve(null);
      }, timeoutMs);
      const waiter = (e: ControlEvent): boolean => {
        if (!match(e)) return false;
        clearTimeout(timer);
        resolve(e);
        return true;
      };
      this.waiters.push(waiter);
    });
  }

  async members(timeoutMs = 2000): Promise<Array<{ name: string; state: string; address: string; self: boolean }> | null> {
    const ref = this.ref();
    this.send({ type: 'members', ref });
    const e = await this.waitFor((x) => x.type === 'members' && x.ref === ref, timeoutMs);
    return e !== null && e.type === 'members' ? e.members : null;
  }

  async publish(topic: string, data: string, timeoutMs = 5000): Promise<{ id: string; publishedAtHr: number }> {
    const ref = this.ref();
    this.send({ type: 'publish', topic, data, ref });
    const e = await this.waitFor((x) => (x.type === 'published' || x.type === 'error') && x.ref === ref, timeoutMs);
    if (e === null || e.type !== 'published') {
      throw new HearsayError('HEARSAY_ERR_TIMEOUT', `${this.name} did not publish: ${e?.type === 'error' ? e.message : 'no answer'}`);
    }
    return { id: e.id, publishedAtHr: e.publishedAtHr };
  }

  deliveries(id?: string): Array<Extract<ControlEvent, { type: 'delivery' }>> {
    return this.events.filter((e): e is Extract<ControlEvent, { type: 'delivery' }> => e.type === 'delivery' && (id === undefined || e.id === id));
  }

  /** Graceful stop through the control channel; SIGTERM, then SIGKILL if it does not exit. */
  async stop(): Promise<void> {
    const proc = this.proc;
    if (proc === null || !this.running) return;
    this.send({ type: 'stop' });
    const term = setTimeout(() => proc.kill('SIGTERM'), 3000);
    const kill = setTimeout(() => proc.kill('SIGKILL'), 6000);
    await this.exitPromise;
    clearTimeout(term);
    clearTimeout(kill);
  }

  /** `kill -9`: no goodbye, no flush. */
  async kill(): Promise<void> {
    if (this.proc === null || !this.running) return;
    this.proc.kill('SIGKILL');
    await this.exitPromise;
  }

  signal(sig: NodeJS.Signals): void {
    this.proc?.kill(sig);
  }

  exited(): Promise<number | null> {
    return this.exitPromise;
  }
}

export class ProcessCluster {
  readonly dir: string;
  readonly keysDir: string;
  readonly authorityPublicKey: string;
  readonly nodes: ProcessNode[] = [];
  private readonly ownsDir: boolean;
  private readonly cluster: string;
  private readonly config: Partial<HearsayConfig>;

  constructor(options: ProcessClusterOptions) {
    this.ownsDir = options.dir === undefined;
    this.dir = options.dir ?? mkdtempSync(join(tmpdir(), 'hearsay-cluster-'));
    this.keysDir = join(this.dir, 'keys');
    this.cluster = options.cluster ?? 'demo';
    this.config = options.config ?? {};
    const provisioned = provisionCluster({
      keysDir: this.keysDir,
      manifest: {
        cluster: this.cluster,
        nodes: options.nodes.map((n) => ({ name: n.name, tenant: n.tenant ?? 'demo', roles: [...(n.roles ?? ['member'])], validDays: 1 })),
      },
    });
    this.authorityPublicKey = toHex(provisioned.authority.publicKey);
    for (const n of options.nodes) {
      this.nodes.push(new ProcessNode(n.name, join(this.dir, `${n.name}.json`), join(this.dir, `${n.name}.log`)));
    }
  }

  node(name: string): ProcessNode {
    const n = this.nodes.find((x) => x.name === name);
    if (n === undefined) throw new HearsayError('HEARSAY_ERR_INVALID_ARGUMENT', `no node named ${name}`);
    return n;
  }

  /** Writes a node's config file (seeds = the given addresses) with an ephemeral port, or `port`. */
  writeConfig(node: ProcessNode, seeds: readonly string[], port = 0, extra: Partial<HearsayConfig> = {}): void {
    const dataDir = join(this.dir, 'data', node.name);
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(node.configPath, JSON.stringify({
      profile: 'local',
      cluster: this.cluster,
      authorityPublicKey: this.authorityPublicKey,
      identityDir: nodeDir(this.keysDir, node.name),
      dataDir,
      bindHost: '127.0.0.1',
      bindPort: port,
      seeds,
      logLevel: 'info',
      adminEnabled: false,
      ...this.config,
      ...extra,
    }, null, 2));
  }

  /** Starts every node in order; the first is every other node's seed. */
  async startAll(onStarted?: (n: ProcessNode) => void): Promise<void> {
    let seed: string | null = null;
    for (const n of this.nodes) {
      this.writeConfig(n, seed === null ? [] : [seed]);
      await n.start();
      seed ??= n.address;
      onStarted?.(n);
    }
  }

  /** Polls until every running node sees `expected` alive members (itself included); returns ms taken or -1. */
  async waitForMembership(expected: number, timeoutMs: number, shouldStop: () => boolean = () => false): Promise<number> {
    const start = Date.now();
    while (Date.now() - start < timeoutMs && !shouldStop()) {
      const running = this.nodes.filter((n) => n.running);
      const answers = await Promise.all(running.map((n) => n.members()));
      if (answers.every((a) => a !== null && a.filter((m) => m.state === 'alive').length === expected)) return Date.now() - start;
      await new Promise((r) => setTimeout(r, 100));
    }
    return -1;
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.stop()));
  }

  /** Stops every node and removes the folder if this cluster created it. */
  async destroy(): Promise<void> {
    await this.stopAll();
    if (this.ownsDir) rmSync(this.dir, { recursive: true, force: true });
  }
}
