/* eslint-disable */
// The Stripe emulator in its own process (so it never shares an event loop with the service or the load
// generator). Started by bench.js with fork(); answers {url} over IPC once listening.
const { startStripeEmulator } = require('../../dist/apps/stripe-emulator/src');

startStripeEmulator({ port: 0, host: '127.0.0.1', logger: () => {} })
  .then((emulator) => {
    process.send({ ready: true, url: emulator.url });
    process.on('disconnect', () => process.exit(0));
    process.on('SIGTERM', () => emulator.close().finally(() => process.exit(0)));
  })
  .catch((err) => {
    console.error(err);
    process.exit(1);
  });
