// The short run of the HTTP fuzz (test/fuzz/http.ts) inside `npm test`: a fixed seed, so a failure
// here replays with the command it prints. The full run is `npm run fuzz` (5,000 cases and more).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fuzzHttp, generateCase, summary } from './fuzz/http.js';

const SEED = Number(process.env.PUSHCAM_FUZZ_SEED ?? 20_261_202);
const CASES = 600;

test(`HTTP fuzz: ${CASES} hostile requests over raw sockets to pushcam serve: no 5xx, no crash, no leak, the key checked, a normal request fast after every batch`, async (t) => {
  const report = await fuzzHttp({ seed: SEED, count: CASES, batch: 200 });
  t.diagnostic(summary(report));
  assert.deepEqual(report.failures, []);
  assert.equal(report.cases, CASES);
  const count = (status: string): number => report.statuses[status] ?? 0;
  assert.ok(count('200') > CASES / 10, 'many requests are valid, so that serving them is checked too');
  assert.ok(count('400') > CASES / 10 && count('401') > CASES / 10, 'many are refused as malformed, many for the key');
  assert.ok(report.streams > 10, 'streams are opened and dropped');
});

test('HTTP fuzz: a case is the same bytes for the same seed and index, and differs across them', () => {
  const bytes = (i: number): string => Buffer.concat(generateCase(7, i, 8080).chunks).toString('latin1');
  assert.equal(bytes(42), bytes(42));
  const distinct = new Set(Array.from({ length: 100 }, (_, i) => bytes(i)));
  assert.ok(distinct.size > 90, `${distinct.size} distinct cases of 100`);
});
