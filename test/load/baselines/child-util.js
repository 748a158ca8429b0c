/* eslint-disable */
// What every bare baseline shares: listen on an ephemeral port, report it over IPC, exit with the parent.
async function serve(app, onClose) {
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address();
  process.send({ ready: true, url: `http://127.0.0.1:${port}`, pid: process.pid });
  const stop = async () => {
    await app.close().catch(() => {});
    if (onClose) await onClose().catch(() => {});
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('disconnect', stop);
}

module.exports = { serve, poolSize: () => Number(process.env.DATABASE_POOL_SIZE || 10) };
