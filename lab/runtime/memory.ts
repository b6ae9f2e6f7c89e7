import { readdir, readFile } from 'node:fs/promises';

/** Resident memory of this process and all its descendants, KiB (Linux /proc). */
export async function treeRssKiB(root = process.pid): Promise<number> {
  const parents = new Map<number, number>();
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8');
      // pid (comm) state ppid …: comm may hold spaces, so split after the last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parents.set(Number(entry), ppid);
    } catch {}
  }
  const inTree = (pid: number): boolean => {
    for (let current: number | undefined = pid; current; current = parents.get(current)) {
      if (current === root) return true;
    }
    return false;
  };
  let total = 0;
  for (const pid of parents.keys()) {
    if (!inTree(pid)) continue;
    try {
      const status = await readFile(`/proc/${pid}/status`, 'utf8');
      total += Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    } catch {}
  }
  return total;
}

/** Samples the tree's memory every `intervalMs` and keeps the peak. */
export function startMemorySampler(intervalMs = 2_000) {
  let peakKiB = 0;
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      peakKiB = Math.max(peakKiB, await treeRssKiB().catch(() => 0));
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  })();
  return {
    peakMiB: () => Math.round(peakKiB / 1024),
    async stop() {
      stopped = true;
      await loop;
      return Math.round(peakKiB / 1024);
    },
  };
}
