/** A process's resident memory (Linux /proc), read once or sampled on an interval. */
import { readFileSync } from 'node:fs';

/** Resident memory of a process in MB; undefined once it is gone. */
export function residentMb(pid: number): number | undefined {
  try {
    const kb = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? undefined : Number(kb) / 1024;
  } catch {
    return undefined;
  }
}

/** What `sampleRss` saw, in MB. */
export interface RssSamples {
  peakMb: number;
  lastMb: number;
  samples: number;
}

/** Samples a process's RSS every `everyMs` (from now) until `stop()`. */
export function sampleRss(pid: number, everyMs = 250): { stop: () => RssSamples } {
  const seen: RssSamples = { peakMb: 0, lastMb: 0, samples: 0 };
  const take = () => {
    const mb = residentMb(pid);
    if (mb === undefined) return;
    seen.samples += 1;
    seen.peakMb = Math.max(seen.peakMb, mb);
    seen.lastMb = mb;
  };
  take();
  const timer = setInterval(take, everyMs);
  return {
    stop: () => {
      clearInterval(timer);
      take();
      return { ...seen };
    },
  };
}
