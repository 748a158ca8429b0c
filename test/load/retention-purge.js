/* eslint-disable */
// Times the service's own retention purge (RetentionService.purge, as its daily job runs it) for bench.js: boots the
// service's modules from dist without HTTP and without job workers (as the CLIs do), so nothing else runs in this
// process, and times purge() alone (boot and shutdown are not counted). Answers {ok, seconds, result} over IPC.
process.env.WORKERS_ENABLED = 'false';
const { NestFactory } = require('@nestjs/core');
const { AppModule } = require('../../dist/apps/connect-service/src/app.module');
const { RetentionService } = require('../../dist/apps/connect-service/src/security/retention.service');

async function main() {
  const app = await NestFactory.createApplicationContext(AppModule, { logger: ['error', 'warn'] });
  try {
    const started = process.hrtime.bigint();
    const result = await app.get(RetentionService).purge();
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    process.send({ ok: true, seconds, result });
  } finally {
    await app.close();
  }
}

main()
  .then(() => process.exit(0))
  .catch((e) => {
    process.send({ ok: false, error: String(e && e.stack ? e.stack : e) });
    process.exit(1);
  });
