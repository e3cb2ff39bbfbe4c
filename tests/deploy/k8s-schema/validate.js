#!/usr/bin/env node
// Validates every object of a rendered kustomization (YAML stream on stdin,
// `kubectl kustomize deploy/k8s`) against the Kubernetes API schemas shipped
// by npm's kubernetes-models, and checks the probes a cluster would send: the
// kubelet sets Host to the pod IP, which the gateway's Host allow-list refuses
// everywhere but /healthz and /readyz.
// A self-test first breaks copies of the objects and expects each break to be
// caught, so a validator that accepts everything fails here.
// Prints one line per check and "N passed, M failed"; exits 1 on any failure.
'use strict';
const fs = require('fs');
const path = require('path');
const yaml = require('js-yaml');

let pass = 0;
let fail = 0;
const ok = (m) => { pass++; console.log(`ok   - ${m}`); };
const ko = (m) => { fail++; console.log(`FAIL - ${m}`); };

// apiVersion "apps/v1" -> kubernetes-models/apps/v1/KIND; core "v1" -> v1/KIND.
function modelClass(obj) {
  const apiVersion = String(obj.apiVersion || '');
  const kind = String(obj.kind || '');
  if (!/^[a-z0-9.]+(\/[a-z0-9]+)?$/.test(apiVersion) || !/^[A-Z][A-Za-z]+$/.test(kind)) {
    throw new Error(`no apiVersion/kind (${apiVersion || '-'} ${kind || '-'})`);
  }
  const dir = path.join(path.dirname(require.resolve('kubernetes-models/package.json')), apiVersion, kind + '.js');
  if (!fs.existsSync(dir)) {
    throw new Error(`${apiVersion} ${kind} is no Kubernetes API type`);
  }
  return require(dir)[kind];
}

function validate(obj) {
  const Model = modelClass(obj);
  new Model(obj).validate();
}

function name(obj) {
  return `${obj.apiVersion} ${obj.kind} ${(obj.metadata || {}).name}`;
}

const PROBE_PATHS = new Set(['/healthz', '/readyz']);
function probeProblems(obj) {
  const problems = [];
  const spec = ((((obj.spec || {}).template || {}).spec) || {});
  for (const c of [...(spec.containers || []), ...(spec.initContainers || [])]) {
    for (const kind of ['readinessProbe', 'livenessProbe', 'startupProbe']) {
      const probe = c[kind];
      if (!probe || !probe.httpGet) {
        continue;
      }
      const where = `${name(obj)} container ${c.name} ${kind}`;
      if (!PROBE_PATHS.has(probe.httpGet.path)) {
        problems.push(`${where}: path ${probe.httpGet.path} answers only an allowed Host; the kubelet sends the pod IP`);
      }
      if (probe.httpGet.host) {
        problems.push(`${where}: host ${probe.httpGet.host} would send the probe elsewhere`);
      }
    }
  }
  return problems;
}

const docs = yaml.loadAll(fs.readFileSync(0, 'utf8')).filter((d) => d);
if (docs.length === 0) {
  ko('no objects on stdin');
}

// Self-test: each break must be refused.
const clone = (o) => JSON.parse(JSON.stringify(o));
const deployment = docs.find((d) => d.kind === 'Deployment');
const service = docs.find((d) => d.kind === 'Service');
const breaks = [];
if (deployment) {
  breaks.push(['replicas as a string', (d) => { d.spec.replicas = 'two'; }, deployment]);
  breaks.push(['container without a name', (d) => { delete d.spec.template.spec.containers[0].name; }, deployment]);
  breaks.push(['no selector', (d) => { delete d.spec.selector; }, deployment]);
  breaks.push(['containerPort as a name', (d) => { d.spec.template.spec.containers[0].ports = [{ containerPort: 'grpc' }]; }, deployment]);
  breaks.push(['unknown kind', (d) => { d.kind = 'Deploymnt'; }, deployment]);
}
if (service) {
  breaks.push(['service port as an object', (s) => { s.spec.ports[0].port = { n: 1 }; }, service]);
}
const policy = docs.find((d) => d.kind === 'NetworkPolicy');
if (policy) {
  breaks.push(['NetworkPolicy without podSelector', (p) => { delete p.spec.podSelector; }, policy]);
  breaks.push(['NetworkPolicy ingress as an object', (p) => { p.spec.ingress = { from: [] }; }, policy]);
} else {
  ko('no NetworkPolicy rendered (deploy/k8s/networkpolicy.yaml)');
}
for (const [what, mutate, original] of breaks) {
  const copy = clone(original);
  mutate(copy);
  let refused = false;
  try {
    validate(copy);
  } catch (e) {
    refused = true;
  }
  if (refused) {
    ok(`self-test: ${what} refused`);
  } else {
    ko(`self-test: ${what} accepted by the validator`);
  }
}
if (deployment) {
  const copy = clone(deployment);
  copy.spec.template.spec.containers[0].readinessProbe = { httpGet: { path: '/metrics', port: 9000 } };
  if (probeProblems(copy).length > 0) {
    ok('self-test: a probe on /metrics refused');
  } else {
    ko('self-test: a probe on /metrics accepted');
  }
}

const kinds = {};
for (const obj of docs) {
  try {
    validate(obj);
    ok(`schema: ${name(obj)}`);
    kinds[obj.kind] = (kinds[obj.kind] || 0) + 1;
  } catch (e) {
    ko(`schema: ${name(obj)}: ${e.message.split('\n').slice(0, 5).join(' | ')}`);
  }
  if (obj.kind === 'Deployment') {
    const problems = probeProblems(obj);
    if (problems.length === 0) {
      ok(`probes: ${name(obj)} pass the Host check (gRPC or /healthz, /readyz)`);
    } else {
      problems.forEach(ko);
    }
  }
}
console.log(`objects: ${Object.entries(kinds).map(([k, n]) => `${n} ${k}`).join(', ')}`);
console.log(`${pass} passed, ${fail} failed`);
process.exit(fail === 0 ? 0 : 1);
