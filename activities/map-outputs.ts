/**
 * Outputs of mapped tasks too large for one run's history (see workflows/map-batch.ts): each
 * child workflow stores its instances' outputs in parts, and the run joins the parts into the
 * one list a downstream task receives, as an `$offloaded` reference.
 */
import { ApplicationFailure } from '@temporalio/activity';
import type { OffloadedRef } from '../workflows/interpreter/templates';
import type { OutputStore } from './runtime/outputs';

export function createMapOutputActivities(deps: { outputs: OutputStore }) {
  return {
    /**
     * Writes one part: a JSON array of `length` instance outputs (inline values or `$offloaded`
     * markers). `outputs` holds those of the instances that just ran, by position in the part;
     * the others come from `previousKey`, the part an earlier run of the slice wrote.
     */
    async storeMapOutputs(args: { key: string; length: number; outputs: Record<number, unknown>; previousKey?: string }): Promise<void> {
      const part: unknown[] = args.previousKey ? (JSON.parse(await deps.outputs.getText(args.previousKey)) as unknown[]) : [];
      if (!Array.isArray(part)) throw ApplicationFailure.nonRetryable(`mapped output part ${String(args.previousKey)} is not a JSON array`, 'CorruptMapOutputs');
      part.length = args.length;
      for (let i = 0; i < args.length; i++) part[i] = Object.hasOwn(args.outputs, i) ? args.outputs[i] : (part[i] ?? null);
      await deps.outputs.putJson(args.key, JSON.stringify(part));
    },

    /**
     * Joins the parts, in order, into one JSON array under `key`. Parts are spliced as text,
     * not parsed and re-serialised: the list is as long as the mapped task.
     */
    async joinMapOutputs(args: { parts: string[]; key: string }): Promise<OffloadedRef> {
      const pieces: string[] = [];
      for (const part of args.parts) {
        const text = (await deps.outputs.getText(part)).trim();
        if (!text.startsWith('[') || !text.endsWith(']')) {
          throw ApplicationFailure.nonRetryable(`mapped output part ${part} is not a JSON array`, 'CorruptMapOutputs');
        }
        const inner = text.slice(1, -1).trim();
        if (inner) pieces.push(inner);
      }
      const json = `[${pieces.join(',')}]`;
      await deps.outputs.putJson(args.key, json);
      return { $offloaded: { key: args.key, bytes: Buffer.byteLength(json) } };
    },
  };
}

export type MapOutputActivities = ReturnType<typeof createMapOutputActivities>;
