/**
 * Built-in alerting (`sluice/notify`): `notifyWebhook` posts a Slack-compatible message about the
 * run to the webhook in `SLUICE_ALERT_WEBHOOK_URL`. Use it as any DAG's callback:
 * `onFailure: callback(notifyWebhook)`, `onDeadlineMiss: callback(notifyWebhook, { text: '@data-oncall' })`.
 */
import { defineTask, type RunOutcome, type TaskContext } from '../dags/sdk';
import { loadConfig } from '../infra/config';

export interface NotifyWebhookInput {
  /** A first line for the message, e.g. who should look: `<!subteam^S0123>` or '@data-oncall'. */
  text?: string;
}

/** What the webhook receives: Slack's incoming-webhook shape (`text` is the fallback for `blocks`). */
export interface SlackMessage {
  text: string;
  blocks: Array<{ type: 'section'; text: { type: 'mrkdwn'; text: string } }>;
}

/** How long the webhook may take to answer before the attempt fails (and is retried). */
const TIMEOUT_MS = 10_000;
/** Slack refuses a section's text over 3,000 characters. */
const MAX_SECTION = 3000;

/**
 * Posts the run's outcome (failed: which tasks and why; deadline missed: the deadline) with a
 * link to the run when `SLUICE_CONSOLE_URL` is set. With no webhook configured it logs a
 * warning and succeeds; a webhook answering other than 2xx fails the attempt (callbacks are
 * retried, 5 attempts). The URL is never logged: it is the webhook's credential.
 */
export const notifyWebhook = defineTask(
  'notifyWebhook',
  async (input: NotifyWebhookInput | undefined, ctx) => {
    const { alerts, console } = loadConfig();
    const message = slackMessage(ctx, { note: input?.text, consoleUrl: console.url });
    if (!alerts.webhookUrl) {
      ctx.log.warn({ message: message.text }, 'SLUICE_ALERT_WEBHOOK_URL is not set: alert not sent');
      return { sent: false };
    }
    let response: Response;
    try {
      response = await fetch(alerts.webhookUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(message),
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
    } catch (err) {
      // The error may name the host, never the path (where Slack keeps the token).
      const cause = (err as { cause?: { code?: string } }).cause;
      throw new Error(`alert webhook unreachable: ${cause?.code ?? (err as Error).name}`);
    }
    if (!response.ok) {
      const body = (await response.text().catch(() => '')).slice(0, 200);
      throw new Error(`alert webhook answered ${response.status} ${response.statusText}${body ? `: ${body}` : ''}`);
    }
    ctx.log.info({ status: response.status }, 'alert sent');
    return { sent: true };
  },
  { doc: 'Posts a Slack-compatible alert about the run to SLUICE_ALERT_WEBHOOK_URL.' },
);

/** The alert for a run, in Slack's mrkdwn. */
export function slackMessage(
  ctx: Pick<TaskContext, 'dagId' | 'runId' | 'logicalDate'> & { outcome?: RunOutcome },
  options: { note?: string; consoleUrl?: string } = {},
): SlackMessage {
  const { outcome } = ctx;
  const run = `*${ctx.dagId}* run \`${ctx.runId}\``;
  const lines = options.note ? [options.note] : [];
  if (outcome?.state === 'failed') lines.push(`:red_circle: ${run} failed.`);
  else if (outcome?.state === 'deadline_missed') lines.push(`:alarm_clock: ${run} missed its deadline (${outcome.deadline ?? 'unknown'}) and is still running.`);
  else if (outcome?.state === 'success') lines.push(`:white_check_mark: ${run} succeeded.`);
  else lines.push(`:information_source: ${run}.`);
  lines.push(`Logical date: ${ctx.logicalDate}`);
  if (outcome && outcome.failedTasks.length > 0) {
    lines.push(`${outcome.state === 'failed' ? 'Failed tasks' : 'Failed so far'}: ${outcome.failedTasks.join(', ')}`);
  }
  if (outcome?.reason) lines.push(`Reason: ${outcome.reason}`);
  if (options.consoleUrl) lines.push(`<${options.consoleUrl.replace(/\/+$/, '')}/runs/${encodeURIComponent(ctx.runId)}|Open the run in the console>`);
  const text = lines.join('\n');
  const section = text.length > MAX_SECTION ? `${text.slice(0, MAX_SECTION - 1)}…` : text;
  return { text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text: section } }] };
}
