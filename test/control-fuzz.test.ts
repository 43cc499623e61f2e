// The short run of the control fuzz (test/fuzz/control.ts) inside `npm test`: a fixed seed, so a
// failure here replays with the command it prints. The full run is
// `node --expose-gc --import tsx test/fuzz/control.ts --count 5000` (both adapters).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inspect } from 'node:util';
import { type Adapter, fuzzControl, generateCase, summary } from './fuzz/control.js';

const SEED = Number(process.env.PUSHCAM_FUZZ_SEED ?? 20_240_608);
const CASES = 1500;

for (const adapter of ['websocket', 'ipc'] as Adapter[]) {
  test(`control fuzz over ${adapter}: ${CASES} hostile calls, each answered by the contract, the core responsive after every batch`, async (t) => {
    const report = await fuzzControl(adapter, { seed: SEED, count: CASES });
    t.diagnostic(summary(report));
    assert.deepEqual(report.failures, []);
    assert.equal(report.cases, CASES);
    assert.ok(report.refusals > CASES / 3, 'most generated calls are hostile');
    assert.ok(report.results > 20, 'some are calls the contract allows, so that both answers are checked');
  });
}

test('control fuzz: a case is the same for the same seed and index, and differs across them', () => {
  const show = (c: ReturnType<typeof generateCase>): string => inspect(c, { depth: 8, maxStringLength: 300 });
  for (const adapter of ['websocket', 'ipc'] as Adapter[]) {
    assert.equal(show(generateCase(adapter, 7, 42)), show(generateCase(adapter, 7, 42)));
    const distinct = new Set(Array.from({ length: 50 }, (_, i) => show(generateCase(adapter, 7, i))));
    assert.ok(distinct.size > 25, `${distinct.size} distinct cases of 50`);
  }
});
