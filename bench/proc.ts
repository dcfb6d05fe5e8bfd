// What a server process used, from Linux /proc: CPU time (utime + stime in /proc/PID/stat) and
// resident memory (VmRSS now, VmHWM the peak). The peak is reset before each measured run by writing
// 5 to /proc/PID/clear_refs, so it is the peak of that run, not of the process's whole life.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';

let ticksPerSecond: number | undefined;

function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** CPU seconds (user + system) the process has used so far; NaN once it is gone. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may hold spaces: state is field 3,
    // utime 14 and stime 15 (proc(5)).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / clockTicks();
  } catch {
    return Number.NaN;
  }
}

function statusKb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+)\\s+kB$`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match?.[1] === undefined ? Number.NaN : Number(match[1]) * 1024;
  } catch {
    return Number.NaN;
  }
}

export const rssBytes = (pid: number): number => statusKb(pid, 'VmRSS');
export const peakRssBytes = (pid: number): number => statusKb(pid, 'VmHWM');

/** Resets the peak RSS to the current RSS; false where the kernel does not allow it. */
export function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** A process's usage over one measured run. */
export class Usage {
  private readonly cpu0: number;

  constructor(private readonly pid: number) {
    resetPeakRss(pid);
    this.cpu0 = cpuSeconds(pid);
  }

  end(): { cpuSeconds: number; peakRssBytes: number } {
    return { cpuSeconds: cpuSeconds(this.pid) - this.cpu0, peakRssBytes: peakRssBytes(this.pid) };
  }
}
