/**
 * The deployment files under infra/deploy/ cannot run here (no Docker engine, no cluster), so they
 * are linted on every `npm test` instead, to keep them from rotting:
 * - yamllint over every YAML file; the Kubernetes manifests against the schemas of a pinned
 *   Kubernetes version (strict: unknown fields fail); the compose file against the compose-spec
 *   schema; the Dockerfile by hadolint and by the rules issue 13 states (pinned multi-stage,
 *   non-root, no secrets baked in).
 * - What the schemas cannot know: worker pods outlive the worker's shutdown grace, probes hit the
 *   worker's real endpoints, the PodDisruptionBudget and Service select real pods, every command
 *   the containers run is one `sluice` has.
 * - promtool checks the alert rules and every dashboard query (parse and types), and runs the
 *   rules' unit tests (prometheus/alerts.test.yaml: each alert fires on the series it is for, and
 *   stays quiet on the ones it is not). Every metric the rules and panels name is exported by a
 *   real `sluice worker` or console of this checkout, with the labels they match and group on.
 * The linters come from test/support/lint-tools.ts (a pinned PyPI venv, installed on first use).
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parser } from '@prometheus-io/lezer-promql';
import type { Connection } from '@temporalio/client';
import { Client } from '@temporalio/client';
import type { Knex } from 'knex';
import pino from 'pino';
import { createKnex } from '../../infra/db/knex';
import { findFreePorts } from '../../infra/dev-stack/ports';
import { main } from '../../server/cli/main';
import { createConsoleApp } from '../../server/console/app';
import { testConfig, testTemporal } from '../support/env';
import { ensureLintTools, type LintTools } from '../support/lint-tools';

const REPO = path.resolve(__dirname, '../..');
const SLUICE = path.join(REPO, 'server/cli/sluice.js');
const DEPLOY = path.join(REPO, 'infra/deploy');
const KUBERNETES = path.join(DEPLOY, 'kubernetes');
const COMPOSE = path.join(DEPLOY, 'compose/compose.yaml');
const DOCKERFILE = path.join(DEPLOY, 'Dockerfile');
const ALERTS = path.join(DEPLOY, 'prometheus/alerts.yaml');
const ALERT_TESTS = path.join(DEPLOY, 'prometheus/alerts.test.yaml');
const DASHBOARD = path.join(DEPLOY, 'grafana/sluice-dashboard.json');
const GRAFANA_DATASOURCE = path.join(DEPLOY, 'grafana/provisioning/datasources/prometheus.yaml');
/** The oldest Kubernetes minor still supported upstream when these manifests were written. */
const KUBERNETES_VERSION = '1.33.0';
/** The image name the manifests use; kustomization.yaml maps it to the registry's. */
const SLUICE_IMAGE = 'sluice';
/** The alert names agreed for issue 13 (README runbook headings "### Alert: <name>"). */
const ALERT_NAMES = ['SluiceRunFailed', 'SluiceRunAwaitingOperator', 'SluiceScheduleMissed', 'SluiceWorkerSlotsExhausted', 'SluiceQualityScoreLow', 'SluiceWorkerDown'];
/** Series Prometheus itself makes for each target, and the labels it adds to every series. */
const PROMETHEUS_SERIES = new Set(['up']);
const TARGET_LABELS = new Set(['job', 'instance']);

// Loose shapes of the parsed files: only the fields these tests read.
interface K8sObject {
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  // Manifests are deep; the tests read a few known paths.
  spec?: any;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
  resources?: string[];
  images?: Array<{ name: string; newTag?: string }>;
}
interface ComposeService {
  image?: string;
  command?: string[];
  environment?: Record<string, string>;
  deploy?: { replicas?: number };
  stop_grace_period?: string;
}
interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

let tools: LintTools;
let yaml: Record<string, unknown[]>;
const manifestFiles = fs.readdirSync(KUBERNETES).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');

before(async () => {
  tools = await ensureLintTools();
  yaml = await tools.readYaml([COMPOSE, ALERTS, ALERT_TESTS, GRAFANA_DATASOURCE, ...fs.readdirSync(KUBERNETES).map((f) => path.join(KUBERNETES, f))]);
}, { timeout: 6 * 60_000 });

const docs = <T>(file: string) => (yaml[file] ?? assert.fail(`${file} was not read`)) as T[];
const manifests = () => manifestFiles.flatMap((f) => docs<K8sObject>(path.join(KUBERNETES, f)));
const manifest = (kind: string, name: string) =>
  manifests().find((m) => m.kind === kind && m.metadata.name === name) ?? assert.fail(`no ${kind} ${name} in ${KUBERNETES}`);
const composeServices = () => docs<{ services: Record<string, ComposeService> }>(COMPOSE)[0]!.services;
const alertRules = () => docs<{ groups: Array<{ rules: AlertRule[] }> }>(ALERTS)[0]!.groups.flatMap((g) => g.rules);
const dashboardExprs = () =>
  (JSON.parse(fs.readFileSync(DASHBOARD, 'utf8')) as { panels: Array<{ title: string; targets: Array<{ expr: string }> }> }).panels.flatMap((p) =>
    p.targets.map((t) => ({ where: `dashboard panel "${p.title}"`, expr: t.expr })),
  );
const allExprs = () => [...alertRules().map((r) => ({ where: `alert ${r.alert}`, expr: r.expr })), ...dashboardExprs()];

/** A lint result as an assertion: a clean exit, else the linter's own words. */
function assertClean(what: string, result: { code: number; output: string }): void {
  assert.equal(result.code, 0, `${what} failed:\n${result.output}`);
}

/** Seconds of a duration as compose writes it (`330s`, `5m30s`). */
function seconds(duration: string): number {
  const parts = [...duration.matchAll(/(\d+)(h|m|s)/g)];
  assert.ok(parts.length > 0, `'${duration}' is not a duration`);
  return parts.reduce((sum, [, n, unit]) => sum + Number(n) * { h: 3600, m: 60, s: 1 }[unit as 'h' | 'm' | 's'], 0);
}

describe('YAML and Kubernetes manifests', () => {
  test('yamllint finds nothing in infra/deploy', async () => {
    assertClean('yamllint', await tools.yamllint(['-c', path.join(DEPLOY, '.yamllint'), '-f', 'parsable', '--strict', DEPLOY]));
  });

  test(`every manifest validates against Kubernetes ${KUBERNETES_VERSION}, strictly`, async () => {
    const files = manifestFiles.map((f) => path.join(KUBERNETES, f));
    assertClean('kubernetes-validate', await tools.kubernetesValidate(['-k', KUBERNETES_VERSION, '--strict', '--quiet', ...files]));
  });

  test('kustomization.yaml applies every manifest but the secret template, with a pinned image', () => {
    const kustomization = docs<K8sObject>(path.join(KUBERNETES, 'kustomization.yaml'))[0]!;
    const expected = manifestFiles.filter((f) => f !== 'secret.template.yaml').sort();
    assert.deepEqual([...(kustomization.resources ?? [])].sort(), expected);
    const image = kustomization.images?.find((i) => i.name === SLUICE_IMAGE);
    assert.match(image?.newTag ?? '', /^\d+\.\d+\.\d+/, 'the sluice image needs an exact version tag');
  });

  test('the secret template holds placeholders, never a secret', () => {
    const secret = manifest('Secret', 'sluice-secrets');
    for (const [key, value] of Object.entries(secret.stringData ?? {})) assert.match(value, /REPLACE_ME/, `${key} must be a REPLACE_ME placeholder`);
  });

  test('workers: replicas, resources, the real probe paths, a grace period the drain fits in, a PDB that selects them', () => {
    const worker = manifest('Deployment', 'sluice-worker');
    const pod = worker.spec.template.spec;
    assert.ok(worker.spec.replicas >= 2, 'several worker replicas');
    const grace = Number(manifest('ConfigMap', 'sluice-config').data?.SLUICE_WORKER_SHUTDOWN_GRACE);
    assert.ok(grace > 0, 'configmap.yaml sets SLUICE_WORKER_SHUTDOWN_GRACE');
    assert.ok(pod.terminationGracePeriodSeconds > grace, `terminationGracePeriodSeconds ${String(pod.terminationGracePeriodSeconds)} must exceed the worker's ${grace} s grace`);
    const container = pod.containers.find((c: { name: string }) => c.name === 'worker');
    assert.equal(container.livenessProbe.httpGet.path, '/healthz');
    assert.equal(container.readinessProbe.httpGet.path, '/readyz');
    for (const c of [...pod.containers, ...(pod.initContainers ?? [])]) {
      assert.ok(c.resources?.requests?.cpu && c.resources?.requests?.memory && c.resources?.limits?.memory, `${String(c.name)}: cpu and memory requests, a memory limit`);
    }
    assert.equal(pod.securityContext.runAsNonRoot, true);
    const pdb = manifest('PodDisruptionBudget', 'sluice-worker');
    assert.deepEqual(pdb.spec.selector.matchLabels, worker.spec.selector.matchLabels);
  });

  test('the console Service selects the console pods', () => {
    const consoleDeployment = manifest('Deployment', 'sluice-console');
    const service = manifest('Service', 'sluice-console');
    const podLabels = consoleDeployment.spec.template.metadata.labels as Record<string, string>;
    for (const [k, v] of Object.entries(service.spec.selector as Record<string, string>)) assert.equal(podLabels[k], v, `selector ${k}=${v}`);
    const probe = consoleDeployment.spec.template.spec.containers[0].livenessProbe;
    assert.equal(probe.httpGet.path, '/healthz');
  });
});

describe('compose', () => {
  test('compose.yaml matches the compose-spec schema', async () => {
    assertClean('check-jsonschema (compose-spec)', await tools.checkJsonschema(['--builtin-schema', 'vendor.compose-spec', COMPOSE]));
  });

  test('runs the whole production-like stack, every image pinned', () => {
    const services = composeServices();
    for (const name of ['temporal', 'temporal-postgres', 'temporal-ui', 'minio', 'minio-init', 'warehouse-postgres', 'migrate', 'worker', 'console']) {
      assert.ok(services[name], `service ${name}`);
    }
    for (const [name, service] of Object.entries(services)) {
      const tag = service.image?.split(':').slice(1).join(':') ?? '';
      assert.ok(/\d/.test(tag) && tag !== 'latest', `${name}: image ${service.image ?? '(none)'} needs a version tag`);
    }
  });

  test('workers: replicas, and Docker waits longer than their shutdown grace', () => {
    const worker = composeServices().worker!;
    assert.ok((worker.deploy?.replicas ?? 0) >= 2);
    const grace = Number(worker.environment?.SLUICE_WORKER_SHUTDOWN_GRACE);
    assert.ok(grace > 0 && seconds(worker.stop_grace_period ?? '0s') > grace, `stop_grace_period must exceed SLUICE_WORKER_SHUTDOWN_GRACE (${grace} s)`);
  });
});

describe('Dockerfile', () => {
  const dockerfile = fs.readFileSync(DOCKERFILE, 'utf8');
  const instructions = dockerfile.replace(/\\\n/g, ' ').split('\n').filter((l) => /^[A-Z]+\s/.test(l));

  test('hadolint finds nothing', async () => {
    assertClean('hadolint', await tools.hadolint(['--no-color', DOCKERFILE]));
  });

  test('multi-stage from an exactly pinned base, runs as a non-root user, bakes in no secret, checks its health', () => {
    const froms = instructions.filter((l) => l.startsWith('FROM '));
    assert.ok(froms.length >= 2, 'multi-stage');
    for (const from of froms) assert.match(from, /^FROM \S+:\d+\.\d+\.\d+\S*( AS \S+)?$/, `${from}: pin an exact version`);
    const user = instructions.filter((l) => l.startsWith('USER ')).at(-1);
    assert.ok(user && !/^USER (root|0)(:|$)/.test(user), `the image must end as a non-root USER (${user ?? 'none'})`);
    for (const line of instructions.filter((l) => /^(ENV|ARG) /.test(l))) {
      assert.doesNotMatch(line, /(SECRET|PASSWORD|TOKEN|API_KEY|ACCESS_KEY)\w*=/i, `${line}: secrets come from the runtime environment`);
    }
    assert.ok(instructions.some((l) => l.startsWith('HEALTHCHECK ')), 'HEALTHCHECK');
  });
});

test('every command the containers run is one `sluice` has', async () => {
  const usesSluice = (image: string | undefined) => image === SLUICE_IMAGE || image?.startsWith(`${SLUICE_IMAGE}:`);
  const commands = new Set<string>();
  for (const service of Object.values(composeServices())) if (usesSluice(service.image) && service.command) commands.add(service.command.join(' '));
  for (const m of manifests().filter((m) => m.kind === 'Deployment')) {
    const pod = m.spec.template.spec;
    for (const c of [...pod.containers, ...(pod.initContainers ?? [])]) if (usesSluice(c.image)) commands.add((c.args as string[]).join(' '));
  }
  assert.ok(commands.has('worker') && commands.has('console'));
  for (const command of commands) {
    const words = command.split(' ');
    // `sluice <parent> --help` lists the commands under <parent>: the last word must be one.
    const help = await cliHelp(words.slice(0, -1));
    const listed = help.slice(help.indexOf('Commands:')).split('\n').map((l) => l.trim().split(/\s/)[0]);
    assert.ok(listed.includes(words.at(-1)!), `\`sluice ${command}\` is not a sluice command:\n${help}`);
  }
});

describe('alert rules and dashboard', () => {
  test('each alert: the agreed name, a `for:`, a severity, a summary and a runbook section that exists', () => {
    const rules = alertRules();
    assert.deepEqual(rules.map((r) => r.alert).sort(), [...ALERT_NAMES].sort());
    const readme = fs.readFileSync(path.join(REPO, 'README.md'), 'utf8');
    for (const rule of rules) {
      assert.match(rule.for ?? '', /^\d+[smh]$/, `${rule.alert}: for`);
      assert.ok(['warning', 'critical'].includes(rule.labels?.severity ?? ''), `${rule.alert}: severity`);
      assert.ok(rule.annotations?.summary, `${rule.alert}: summary`);
      assert.equal(rule.annotations?.runbook_url, `README.md#alert-${rule.alert.toLowerCase()}`);
      assert.ok(readme.includes(`### Alert: ${rule.alert}\n`), `README.md has no "### Alert: ${rule.alert}" runbook section`);
    }
  });

  test('promtool accepts the rules', async () => {
    assertClean('promtool check rules', await tools.promtool(['check', 'rules', ALERTS]));
  });

  test("promtool runs the rules' unit tests, which cover every alert", async () => {
    const tests = docs<{ tests: Array<{ alert_rule_test: Array<{ alertname: string }> }> }>(ALERT_TESTS)[0]!.tests;
    const tested = new Set(tests.flatMap((t) => t.alert_rule_test.map((a) => a.alertname)));
    assert.deepEqual(ALERT_NAMES.filter((name) => !tested.has(name)), [], 'alerts without a unit test');
    assertClean('promtool test rules', await tools.promtool(['test', 'rules', ALERT_TESTS]));
  });

  test('promtool accepts every dashboard query', async () => {
    // As recording rules, the one form in which promtool checks a bare expression offline.
    const rules = dashboardExprs().map(({ expr }, i) => `      - record: dashboard:query_${String(i)}\n        expr: ${JSON.stringify(expr)}`);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-dashboard-'));
    try {
      const file = path.join(dir, 'queries.yaml');
      fs.writeFileSync(file, `groups:\n  - name: dashboard\n    rules:\n${rules.join('\n')}\n`);
      assertClean('promtool check rules (dashboard queries)', await tools.promtool(['check', 'rules', file]));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('the dashboard queries the datasource Grafana is provisioned with', () => {
    const uid = docs<{ datasources: Array<{ uid: string }> }>(GRAFANA_DATASOURCE)[0]!.datasources[0]!.uid;
    const dashboard = fs.readFileSync(DASHBOARD, 'utf8');
    const uids = new Set([...dashboard.matchAll(/"uid": "([^"]+)"/g)].map((m) => m[1]).filter((u) => u !== 'sluice-overview'));
    assert.deepEqual([...uids], [uid]);
  });

  describe('the metrics they name are exported by a real worker and console', () => {
    let worker: ChildProcess | undefined;
    let temporal: Connection | undefined;
    let db: Knex | undefined;
    let exported: Map<string, Set<string>>;

    before(async () => {
      const [workerPort] = await findFreePorts(1);
      worker = spawn(process.execPath, [SLUICE, 'worker', '--queues', `infra-lint-${process.pid}`, '--concurrency', '2'], {
        env: { ...process.env, SLUICE_WORKER_HTTP: `127.0.0.1:${String(workerPort)}`, LOG_LEVEL: 'warn' },
        stdio: 'ignore',
      });
      const workerUrl = `http://127.0.0.1:${String(workerPort)}`;
      await until(async () => (await fetch(`${workerUrl}/readyz`).catch(() => undefined))?.status === 200, 60_000, 'the worker to be ready');
      const workerMetrics = await (await fetch(`${workerUrl}/metrics`)).text();

      const connected = await testTemporal();
      temporal = connected.connection;
      db = createKnex(testConfig().postgres.databaseUrl, { maxConnections: 2 });
      const app = createConsoleApp({ temporal: new Client({ connection: temporal, namespace: testConfig().temporal.namespace }), db, token: 'infra-lint', logger: pino({ level: 'silent' }), dags: () => [] });
      const server = app.listen(0, '127.0.0.1');
      await new Promise((resolve) => server.once('listening', resolve));
      const { port } = server.address() as { port: number };
      const consoleMetrics = await (await fetch(`http://127.0.0.1:${String(port)}/metrics`, { headers: { authorization: 'Bearer infra-lint' } })).text();
      await new Promise((resolve) => server.close(resolve));
      exported = exportedMetrics(`${workerMetrics}\n${consoleMetrics}`);
    }, { timeout: 90_000 });

    after(async () => {
      worker?.kill('SIGTERM');
      await temporal?.close();
      await db?.destroy();
    });

    test('every metric name, and every label an expression matches or groups on', () => {
      const missing: string[] = [];
      for (const { where, expr } of allExprs()) {
        for (const { metric, labels } of selectors(expr)) {
          if (PROMETHEUS_SERIES.has(metric)) continue;
          const known = exported.get(metric);
          if (!known) {
            missing.push(`${where}: ${metric}`);
            continue;
          }
          // A metric seen only by its # TYPE line (no series yet) shows no labels to compare.
          if (known.size === 0) continue;
          for (const label of labels) if (!known.has(label) && !TARGET_LABELS.has(label)) missing.push(`${where}: ${metric}{${label}}`);
        }
      }
      assert.deepEqual(missing, [], `not exported by a worker or the console (${[...exported.keys()].filter((m) => /^(sluice|temporal)_/.test(m)).join(', ')})`);
    });
  });
});

/**
 * The metric of each vector selector in `expr`, with the labels the expression uses on it: its own
 * matchers, and the `by (...)` labels of aggregations around it (`le` of a histogram included).
 */
function selectors(expr: string): Array<{ metric: string; labels: string[] }> {
  const found: Array<{ metric: string; labels: string[] }> = [];
  const grouping: string[][] = [];
  parser.parse(expr).iterate({
    enter(node) {
      if (node.name === 'AggregateExpr') {
        const modifier = node.node.getChild('AggregateModifier');
        const by = modifier?.getChild('By') ? (modifier.getChild('GroupingLabels')?.getChildren('LabelName') ?? []) : [];
        grouping.push(by.map((n) => expr.slice(n.from, n.to)));
      }
      if (node.name === 'VectorSelector') {
        const name = node.node.getChild('Identifier');
        const matchers = node.node.getChild('LabelMatchers')?.getChildren('UnquotedLabelMatcher') ?? [];
        const own = matchers.map((m) => m.getChild('LabelName')).map((n) => (n ? expr.slice(n.from, n.to) : ''));
        if (name) found.push({ metric: expr.slice(name.from, name.to), labels: [...own, ...grouping.flat()] });
      }
    },
    leave(node) {
      if (node.name === 'AggregateExpr') grouping.pop();
    },
  });
  return found;
}

/**
 * Metric name -> label names, from Prometheus text. A histogram is also known by its `_bucket`,
 * `_sum` and `_count` series, as PromQL names them.
 */
function exportedMetrics(text: string): Map<string, Set<string>> {
  const metrics = new Map<string, Set<string>>();
  const labelsOf = (name: string) => metrics.get(name) ?? metrics.set(name, new Set()).get(name)!;
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\w+)/.exec(line);
    if (type) {
      labelsOf(type[1]!);
      if (type[2] === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) labelsOf(`${type[1]!}${suffix}`);
      continue;
    }
    const sample = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? /.exec(line);
    if (!sample) continue;
    const labels = labelsOf(sample[1]!);
    for (const [, label] of (sample[2] ?? '').matchAll(/([a-zA-Z_]\w*)="/g)) labels.add(label!);
  }
  return metrics;
}

/**
 * The help text of `sluice <words> --help`, from the CLI's main() in this process (it returns an
 * exit code instead of exiting). Commander prints help to stdout: copied here as it passes, not
 * swallowed, so nothing else this process prints meanwhile is lost.
 */
async function cliHelp(words: string[]): Promise<string> {
  let text = '';
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
    text += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
    return write(chunk, ...rest);
  }) as typeof process.stdout.write;
  try {
    assert.equal(await main(['node', 'sluice', ...words, '--help']), 0, `sluice ${words.join(' ')} --help failed`);
  } finally {
    process.stdout.write = write;
  }
  return text;
}

async function until(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
