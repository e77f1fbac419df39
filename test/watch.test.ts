// The daemon's watched host (src/cli/watch.ts): stamps and listings kept between runs must always equal what the
// file system says at the next run (after `sync`), whatever changed in between: files written, touched, removed,
// renamed, directories moved away and replaced, symbolic links re-pointed, whole trees moved above the watched top.
import * as fs from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { nodeHost, statStamp, type Host } from '../src/host.js';
import { watchedHost, type WatchedHost } from '../src/cli/watch.js';
import { removeTempDirs, tempDir } from './helpers/cli.js';

afterAll(removeTempDirs);

type Dirent = fs.Dirent;

/** nodeHost, counting the stats and listings asked of it. */
function countingHost(): { host: Host; calls: { stamp: number; readdir: number } } {
  const calls = { stamp: 0, readdir: 0 };
  const readdirSync = nodeHost.globFs!.readdirSync as unknown as (d: string, o?: unknown) => unknown;
  return {
    calls,
    host: {
      ...nodeHost,
      stamp: (abs) => (calls.stamp++, statStamp(abs)),
      globFs: { ...nodeHost.globFs, readdirSync: ((d: string, o?: unknown) => (calls.readdir++, readdirSync(d, o))) as never },
    },
  };
}

const listWith = (host: Host, dir: string): Dirent[] =>
  (host.globFs!.readdirSync as unknown as (d: string, o: { withFileTypes: true }) => Dirent[])(dir, { withFileTypes: true });

const typeOf = (e: Dirent): string => (e.isFile() ? 'f' : e.isDirectory() ? 'd' : e.isSymbolicLink() ? 'l' : '?');

/**
 * What a run sees of `top`: every listing (names and types) and the stamp of every entry and directory, plus
 * probes of absent names. Walked through `host`, or through the file system itself when `host` is null.
 */
function view(host: Host | null, top: string): string[] {
  const out: string[] = [];
  const stamp = (p: string): string => (host ? host.stamp!(p) : statStamp(p));
  const visit = (dir: string): void => {
    let entries: Dirent[];
    try {
      entries = host ? listWith(host, dir) : fs.readdirSync(dir, { withFileTypes: true });
    } catch (e) {
      out.push(`${dir} !${(e as NodeJS.ErrnoException).code}`);
      return;
    }
    out.push(`${dir}/ ${stamp(dir)} ${entries.map((e) => `${e.name}:${typeOf(e)}`).sort().join(',')}`);
    for (const e of entries) {
      const p = join(dir, e.name);
      out.push(`${p} ${stamp(p)}`);
      if (e.isDirectory()) visit(p);
    }
    out.push(`${join(dir, 'absent.go')} ${stamp(join(dir, 'absent.go'))}`, `${join(dir, 'go.mod')} ${stamp(join(dir, 'go.mod'))}`);
  };
  visit(top);
  return out;
}

let open: WatchedHost[] = [];
afterEach(() => {
  for (const h of open) h.close();
  open = [];
});
function watched(base: Host, o: Parameters<typeof watchedHost>[1] = {}): WatchedHost {
  const h = watchedHost(base, { watchable: () => true, ...o });
  open.push(h);
  return h;
}

function tree(): string {
  const root = tempDir('rlscov-watch-');
  for (const [rel, text] of Object.entries({ 'go.mod': 'module m\n', 'a/x.go': 'package a\n', 'a/y.go': 'package a\n', 'a/b/z.go': 'package b\n', 'c/w.go': 'package c\n' })) {
    fs.mkdirSync(dirname(join(root, rel)), { recursive: true });
    fs.writeFileSync(join(root, rel), text);
  }
  return root;
}

describe.runIf(process.platform === 'linux')('watchedHost', () => {
  it('keeps stamps and listings between runs while nothing changes, and sees a change at the next run', async () => {
    const root = tree();
    const { host: base, calls } = countingHost();
    const h = watched(base);
    const first = view(h, root);
    expect(first).toEqual(view(null, root));
    const asked = { ...calls };
    expect(asked.stamp).toBeGreaterThan(10);
    await h.sync();
    expect(view(h, root)).toEqual(first);
    expect(calls).toEqual(asked); // nothing asked of the file system again
    expect(h.stats().watched).toBe(4);

    fs.appendFileSync(join(root, 'a/b/z.go'), '// edited\n');
    await h.sync();
    const after = view(h, root);
    expect(after).toEqual(view(null, root));
    expect(after).not.toEqual(first);
    // Only the edited file and its directory were asked again.
    expect(calls.stamp - asked.stamp).toBeLessThanOrEqual(2);
    expect(calls.readdir - asked.readdir).toBe(1);
  });

  it('never keeps a symbolic link: a link re-pointed, or its target edited outside the tree, is seen', async () => {
    const root = tree();
    const outside = tempDir('rlscov-watch-out-');
    fs.writeFileSync(join(outside, 't1.go'), 'package t\n');
    fs.writeFileSync(join(outside, 't2.go'), 'package t // two\n');
    fs.symlinkSync(join(outside, 't1.go'), join(root, 'a/link.go'));
    fs.symlinkSync(outside, join(root, 'linkdir'));
    const h = watched(nodeHost);
    view(h, root);
    view(h, join(root, 'linkdir'));
    await h.sync();
    fs.appendFileSync(join(outside, 't1.go'), '// more\n');
    fs.writeFileSync(join(outside, 'new.go'), 'package t\n');
    await h.sync();
    expect(view(h, root)).toEqual(view(null, root));
    expect(view(h, join(root, 'linkdir'))).toEqual(view(null, join(root, 'linkdir')));
    fs.rmSync(join(root, 'a/link.go'));
    fs.symlinkSync(join(outside, 't2.go'), join(root, 'a/link.go'));
    await h.sync();
    expect(view(h, root)).toEqual(view(null, root));
  });

  it('never keeps a file with other hard links: written through another path, it is seen', async () => {
    const root = tree();
    const outside = tempDir('rlscov-watch-hard-');
    fs.linkSync(join(root, 'c/w.go'), join(outside, 'w.go'));
    const h = watched(nodeHost);
    view(h, root);
    await h.sync();
    fs.appendFileSync(join(outside, 'w.go'), '// through the other link\n');
    await h.sync();
    expect(view(h, root)).toEqual(view(null, root));
  });

  it('sees a directory moved away and another put in its place', async () => {
    const root = tree();
    const h = watched(nodeHost);
    view(h, root);
    await h.sync();
    fs.renameSync(join(root, 'a'), join(root, 'old'));
    fs.mkdirSync(join(root, 'a/b'), { recursive: true });
    fs.writeFileSync(join(root, 'a/b/z.go'), 'package other\n');
    await h.sync();
    expect(view(h, root)).toEqual(view(null, root));
    // Then files written in both, the moved one through its new path.
    fs.appendFileSync(join(root, 'old/b/z.go'), '// moved\n');
    fs.appendFileSync(join(root, 'a/b/z.go'), '// new\n');
    await h.sync();
    expect(view(h, root)).toEqual(view(null, root));
  });

  it('sees a whole tree replaced above its top directory (no watch sees that)', async () => {
    const parent = tempDir('rlscov-watch-top-');
    const root = join(parent, 'repo');
    fs.mkdirSync(join(root, 'p'), { recursive: true });
    fs.writeFileSync(join(root, 'p/x.go'), 'package p\n');
    const h = watched(nodeHost);
    view(h, root);
    await h.sync();
    fs.renameSync(parent, `${parent}-moved`);
    fs.mkdirSync(join(root, 'p'), { recursive: true });
    fs.writeFileSync(join(root, 'p/x.go'), 'package p // another tree\n');
    await h.sync();
    expect(view(h, root)).toEqual(view(null, root));
    fs.rmSync(`${parent}-moved`, { recursive: true, force: true });
  });

  it('forgets everything after a burst of events (the kernel may have dropped some)', async () => {
    const root = tree();
    const { host: base, calls } = countingHost();
    const h = watched(base, { burst: 5 });
    view(h, root);
    await h.sync();
    // Ten files (the kernel merges identical events in a row: ten writes to one file may be one event).
    for (let i = 0; i < 10; i++) fs.writeFileSync(join(root, `c/n${i}.go`), `package c // ${i}\n`);
    await h.sync();
    expect(h.stats()).toMatchObject({ resets: 1, watched: 0, keptStamps: 0 });
    const before = calls.stamp;
    expect(view(h, root)).toEqual(view(null, root));
    expect(calls.stamp - before).toBeGreaterThan(10); // every stamp taken again
  });

  it('forgets everything when the mount table changes (a mount over a watched path raises no event)', async () => {
    const root = tree();
    let table = 'mounts v1';
    const h = watched(nodeHost, { mounts: () => table });
    view(h, root);
    await h.sync();
    expect(h.stats()).toMatchObject({ resets: 0, watched: 4 });
    table = 'mounts v2';
    await h.sync();
    expect(h.stats()).toMatchObject({ resets: 1, watched: 0, keptStamps: 0 });
    expect(view(h, root)).toEqual(view(null, root));
  });

  it('forgets everything at once when many directories went away, each at its own cost otherwise', async () => {
    const root = tree();
    for (let i = 0; i < 80; i++) fs.mkdirSync(join(root, `many/d${i}`), { recursive: true });
    const h = watched(nodeHost);
    view(h, root);
    await h.sync();
    for (let i = 0; i < 3; i++) fs.renameSync(join(root, `many/d${i}`), join(root, `many/e${i}`));
    await h.sync();
    expect(h.stats().resets).toBe(0);
    expect(view(h, root)).toEqual(view(null, root));
    for (let i = 3; i < 80; i++) fs.renameSync(join(root, `many/d${i}`), join(root, `many/e${i}`));
    await h.sync();
    expect(h.stats().resets).toBe(1);
    expect(view(h, root)).toEqual(view(null, root));
  });

  it('keeps nothing on a file system it does not trust, and within its watch limit', async () => {
    const root = tree();
    const { host: base, calls } = countingHost();
    const h = watched(base, { watchable: () => false });
    view(h, root);
    const asked = calls.stamp;
    await h.sync();
    view(h, root);
    expect(calls.stamp).toBe(2 * asked);
    expect(h.stats().watched).toBe(0);
    const limited = watched(nodeHost, { maxWatched: 2 });
    view(limited, root);
    expect(limited.stats().watched).toBe(2);
    fs.appendFileSync(join(root, 'a/b/z.go'), '// edited\n');
    fs.writeFileSync(join(root, 'c/new.go'), 'package c\n');
    await limited.sync();
    expect(view(limited, root)).toEqual(view(null, root));
  });

  it('watches local file systems by default', () => {
    const root = tree();
    const h = watchedHost(nodeHost);
    open.push(h);
    view(h, root);
    const type = fs.statfsSync(root).type;
    // tmpfs, ext4, xfs, btrfs, overlay: the file systems a temporary directory is on in CI and here.
    if ([0x01021994, 0xef53, 0x58465342, 0x9123683e, 0x794c7630].includes(type)) expect(h.stats().watched).toBe(4);
    else expect(h.stats().watched).toBe(0);
  });

  it('answers as the file system does after every one of 300 random changes', async () => {
    const root = tree();
    const outside = tempDir('rlscov-watch-fuzz-');
    fs.writeFileSync(join(outside, 'target.go'), 'package t\n');
    const h = watched(nodeHost);
    let seed = 12345;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const names = ['a', 'b', 'c', 'x.go', 'y.go', 'go.mod', 'absent.go'];
    const randomPath = (): string => {
      const depth = 1 + rand(3);
      const parts: string[] = [];
      for (let i = 0; i < depth; i++) parts.push(names[rand(names.length)]!);
      return join(root, ...parts);
    };
    const ops: Array<[string, (p: string, q: string) => void]> = [
      ['append', (p) => fs.appendFileSync(p, 'x')],
      ['rewrite', (p) => fs.writeFileSync(p, fs.existsSync(p) && fs.statSync(p).isFile() ? fs.readFileSync(p) : 'package z\n')],
      ['mkdir', (p) => fs.mkdirSync(p, { recursive: true })],
      ['remove', (p) => fs.rmSync(p, { recursive: true, force: true })],
      ['rename', (p, q) => fs.renameSync(p, q)],
      ['touch', (p) => fs.utimesSync(p, new Date(), new Date(Date.now() - rand(100_000)))],
      ['chmod', (p) => fs.chmodSync(p, rand(2) ? 0o755 : 0o700)],
      ['symlink', (p) => fs.symlinkSync(rand(2) ? join(outside, 'target.go') : outside, p)],
      ['edit-outside', () => fs.appendFileSync(join(outside, 'target.go'), 'y')],
    ];
    const done: string[] = [];
    for (let i = 0; i < 300; i++) {
      const [name, op] = ops[rand(ops.length)]!;
      const p = randomPath();
      const q = randomPath();
      try {
        op(p, q);
        done.push(`${name} ${p.slice(root.length)} ${q.slice(root.length)}`);
      } catch {
        // not applicable to what is there now (a rename into itself, a file under a file)
      }
      await h.sync();
      // Before the comparison and after it, as a run's kept values would be used by the next.
      expect(view(h, root), done.slice(-5).join('; ')).toEqual(view(null, root));
    }
    expect(done.length).toBeGreaterThan(100);
    expect(h.stats().keptStamps).toBeGreaterThan(0);
  });
});
