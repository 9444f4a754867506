/** Samples a process's resident memory (Linux /proc) on an interval, keeping the peak. */
import { readFile } from 'node:fs/promises';

export interface RssSampler {
  /** Stops sampling; the peak and the number of samples taken. */
  stop(): { peakBytes: number; samples: number };
}

export async function residentBytes(pid: number): Promise<number | null> {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(await readFile(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : null;
  } catch {
    return null; // the process is gone
  }
}

export function sampleRss(pid: number, everyMs = 250): RssSampler {
  let peakBytes = 0;
  let samples = 0;
  const timer = setInterval(() => {
    void residentBytes(pid).then((bytes) => {
      if (bytes === null) return;
      samples += 1;
      peakBytes = Math.max(peakBytes, bytes);
    });
  }, everyMs);
  return {
    stop: () => {
      clearInterval(timer);
      return { peakBytes, samples };
    },
  };
}
