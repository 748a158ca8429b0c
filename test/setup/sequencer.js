/* eslint-disable */
// Runs the longest suites first, so no worker is left alone with a long suite at the end of the run. jest does this
// from its own timings cache, which a fresh clone (CI) does not have: there, the durations measured in an earlier
// run (suite-durations.json beside this file, in seconds) stand in. A suite missing from that list runs first.
// Refresh the list after big changes: npx jest --json --outputFile=/tmp/run.json, then
// node test/setup/sequencer.js /tmp/run.json
const { readFileSync, writeFileSync } = require('node:fs');
const { join, relative } = require('node:path');
const Sequencer = require('@jest/test-sequencer').default;

const ROOT = join(__dirname, '../..');
const FILE = join(__dirname, 'suite-durations.json');

class LongestFirst extends Sequencer {
  constructor(...args) {
    super(...args);
    try {
      this.known = JSON.parse(readFileSync(FILE, 'utf8'));
    } catch {
      this.known = {};
    }
  }

  time(test) {
    const measured = super.time(test);
    if (measured != null) return measured;
    const seconds = this.known[relative(ROOT, test.path)];
    return seconds == null ? undefined : seconds * 1000;
  }
}

if (require.main === module) {
  const run = JSON.parse(readFileSync(process.argv[2], 'utf8'));
  const durations = Object.fromEntries(
    run.testResults
      .map((r) => [relative(ROOT, r.name), Math.round((r.endTime - r.startTime) / 100) / 10])
      .sort(([a], [b]) => (a < b ? -1 : 1)),
  );
  writeFileSync(FILE, `${JSON.stringify(durations, null, 2)}\n`);
  process.stdout.write(`${Object.keys(durations).length} suites written to ${relative(ROOT, FILE)}\n`);
}

module.exports = LongestFirst;
