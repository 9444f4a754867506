import type { RunMacros } from '../spec';

/**
 * Airflow's date macros for a run: `ds` and `ts` of the logical date, and the dates of the
 * previous and next fire times. Pure string work on UTC instants, so the workflow computes them
 * deterministically. Runs started before the macros existed resolved no next fire: null.
 */
export function runMacros(logicalDate: string, previousFire: string | null, nextFire: string | null | undefined): RunMacros {
  const iso = new Date(logicalDate).toISOString(); // 2026-11-21T06:00:00.000Z
  const ds = iso.slice(0, 10);
  const time = iso.slice(11, 19);
  return {
    ds,
    dsNodash: ds.replaceAll('-', ''),
    ts: `${ds}T${time}+00:00`,
    tsNodash: `${ds.replaceAll('-', '')}T${time.replaceAll(':', '')}`,
    prevDs: previousFire === null ? null : new Date(previousFire).toISOString().slice(0, 10),
    nextDs: nextFire == null ? null : new Date(nextFire).toISOString().slice(0, 10),
  };
}
