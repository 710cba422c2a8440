// Reads one simulation per line on stdin (JSON: {scps: [[policy...]...], rcps: [[...]...],
// principal, action, resource, account, context}) and prints one answer per line:
// "Allowed", "ImplicitlyDenied", "ExplicitlyDenied" or "Error: ...".
// Test-time oracle for tests/it/differential.rs; @cloud-copilot/iam-simulate is AGPL-3.0.
import { createInterface } from 'node:readline';
import { runSimulation } from '@cloud-copilot/iam-simulate';

const allowAll = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] };
const levels = (ls, prefix) =>
  ls.map((ps, i) => ({
    orgIdentifier: `${prefix}${i}`,
    policies: ps.map((p, j) => ({ name: `p${i}-${j}`, policy: p })),
  }));

const rl = createInterface({ input: process.stdin, terminal: false });
const out = [];
for await (const line of rl) {
  if (!line.trim()) continue;
  const c = JSON.parse(line);
  try {
    const r = await runSimulation(
      {
        request: {
          principal: c.principal,
          action: c.action,
          resource: { resource: c.resource, accountId: c.account },
          contextVariables: c.context,
        },
        identityPolicies: [{ name: 'all', policy: allowAll }],
        serviceControlPolicies: levels(c.scps, 'scp'),
        resourceControlPolicies: levels(c.rcps, 'rcp'),
        resourcePolicy: undefined,
      },
      {},
    );
    const errs = r.errors ? JSON.stringify(r.errors) : '';
    out.push(r.result?.analysis?.result ?? (errs ? `Error: ${errs}` : `Error: ${JSON.stringify(r).slice(0, 300)}`));
  } catch (e) {
    out.push(`Error: ${String(e).replace(/\n/g, ' ')}`);
  }
}
process.stdout.write(out.join('\n') + (out.length ? '\n' : ''));
