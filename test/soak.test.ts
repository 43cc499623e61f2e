// The short run of the soak (test/soak/soak.ts) inside `npm test`: 15 s (after a 15 s warm-up) at a tenth of the
// viewers, long-polls and churn, and the whole slowloris (1,000 connections from one address,
// more than the server's connection cap). The full run is `npm run soak` (10 minutes).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { soak, table } from './soak/soak.js';

test('soak, short: steady, stalled, churning and long-polling viewers and a slowloris; PushCam stays up, viewers keep their frames, a new viewer is served at once, nothing leaks', async (t) => {
  const report = await soak({ durationMs: 15_000, steady: 30, stalled: 10, churn: 1000, longPolls: 100, slowloris: 1000, sendTimeoutS: 5, probeEveryMs: 1000 });
  for (const line of table(report).split('\n')) t.diagnostic(line);
  assert.deepEqual(report.failures, []);
  assert.ok(report.probes.length >= 10, `${report.probes.length} new viewers timed`);
  const [viewers, attack] = report.load;
  assert.ok(viewers.stalledDropped >= 10, 'every stalled viewer was closed (the send timeout) at least once');
  assert.equal(attack.churnDone, 1000, 'every churn cycle ran');
  assert.ok(attack.longPollAnswers >= 100, 'every long-poll was answered');
});
