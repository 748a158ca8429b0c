/* eslint-disable */
// A private Citus cluster for scenario 15, from the sharding suite's node helpers (test/citus/support/citus-nodes.js):
// a coordinator and workers under a temporary folder. Durability settings are copied from the bench's own
// PostgreSQL (`settings`), so both sides commit alike.
const fs = require('node:fs');
const {
  findCitus,
  clusterRoot,
  initNode,
  startNode,
  stopNode,
  nodeUrl,
  joinDatabase,
} = require('../../citus/support/citus-nodes');

/**
 * Starts a coordinator and `workers` workers. `settings`: extra postgresql.conf lines (the single server's
 * durability settings). Returns {nodes: [{name, port}], createDatabase(name) -> url, stop()}.
 */
async function startCitusCluster(install, workers, settings = []) {
  const root = clusterRoot('connect-bench-citus-');
  const nodes = [];
  const stop = () => {
    for (const n of [...nodes].reverse()) {
      try {
        stopNode(install, n);
      } catch {}
    }
    fs.rmSync(root, { recursive: true, force: true });
  };
  try {
    for (const name of ['coordinator', ...Array.from({ length: workers }, (_, i) => `worker${i + 1}`)])
      nodes.push(await initNode(install, root, name, settings));
    for (const n of nodes) startNode(install, n);
  } catch (e) {
    stop();
    throw e;
  }
  const [coordinator] = nodes;
  return {
    nodes,
    async createDatabase(name) {
      for (const n of nodes) await joinDatabase(coordinator, n, name);
      return nodeUrl(coordinator, name);
    },
    url: (n, database) => nodeUrl(n, database),
    stop,
  };
}

module.exports = { findCitus, startCitusCluster };
