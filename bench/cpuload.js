// How busy the rest of the machine is (Linux /proc; null elsewhere). On a
// shared machine, rows measured while other processes held cores are noise:
// bench/run.js shows the other load per row and waits for quiet before each.
'use strict';

const fs = require('node:fs');

const nowS = () => Number(process.hrtime.bigint()) / 1e9;

/**
 * CPU time of the whole machine and of our processes (Linux /proc), to show
 * how much of the machine other work took while a row was measured:
 * other = (busy jiffies, steal included, - ours) / elapsed, in cores.
 */
function cpuSnapshot(pids) {
  try {
    const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const [user, nice, system, idle, iowait, irq, softirq, steal = 0] = f;
    const busy = user + nice + system + irq + softirq + steal;
    let ours = 0;
    for (const pid of pids) {
      const st = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const rest = st.slice(st.lastIndexOf(')') + 2).split(' '); // rest[0] is field 3 (state)
      ours += Number(rest[11]) + Number(rest[12]); // utime, stime
    }
    return { busy, total: busy + idle + iowait, ours };
  } catch {
    return null;
  }
}

function otherLoad(a, b, cores) {
  if (!a || !b || b.total <= a.total) return null;
  return Math.max(0, (b.busy - a.busy - (b.ours - a.ours)) / ((b.total - a.total) / cores));
}

/** Waits (at most maxS) until `need` cores are free: other processes use < cores - need + 0.25 over 300 ms. */
async function waitIdle(pids, cores, need, maxS) {
  const t0 = nowS();
  let load = null;
  do {
    const a = cpuSnapshot(pids);
    await new Promise((r) => setTimeout(r, 300));
    load = otherLoad(a, cpuSnapshot(pids), cores);
    if (load === null || load < cores - need + 0.25) return { waitedS: nowS() - t0, load };
  } while (nowS() - t0 < maxS);
  return { waitedS: nowS() - t0, load, gaveUp: true };
}

module.exports = { cpuSnapshot, otherLoad, waitIdle };
