/* eslint-disable */
// PaymentIntent creation throughput of the Stripe emulator (a benchmark, not a test).
// Build first (`npm run build`), then: node test/load/emulator-bench.js [seconds] [connections]
const autocannon = require('autocannon');
const { startStripeEmulator } = require('../../dist/apps/stripe-emulator/src');

async function main() {
  const duration = Number(process.argv[2] || 10);
  const connections = Number(process.argv[3] || 50);
  const emulator = await startStripeEmulator({ port: 0, logger: () => {} });
  const result = await autocannon({
    url: `${emulator.url}/v1/payment_intents`,
    method: 'POST',
    connections,
    duration,
    headers: {
      authorization: 'Bearer sk_test_bench',
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: 'amount=1000&currency=usd&payment_method=pm_card_visa&confirm=true',
  });
  const rssMb = (process.memoryUsage().rss / 1024 / 1024).toFixed(0);
  await emulator.close();
  console.log(
    JSON.stringify(
      {
        duration_s: duration,
        connections,
        requests: result.requests.total,
        req_per_s: result.requests.average,
        latency_p50_ms: result.latency.p50,
        latency_p99_ms: result.latency.p99,
        non_2xx: result.non2xx,
        errors: result.errors,
        rss_mb: Number(rssMb),
      },
      null,
      2,
    ),
  );
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
