import cluster, { type Worker } from 'node:cluster';

/**
 * N API processes on one port for `npm run bench`: node:cluster forks
 * `src/server.ts api` BENCH_API_PROCESSES times (the primary hands out the
 * connections); the workers take PORT, DATABASE_URL... from the environment.
 * Tells its parent "ready" over IPC once every worker listens; on SIGTERM
 * stops the workers and exits.
 */
const processes = Number(process.env.BENCH_API_PROCESSES ?? 1);
cluster.setupPrimary({ exec: 'src/server.ts', args: ['api'], execArgv: ['--import', 'tsx'] });

let stopping = false;
const workers: Worker[] = [];
let listening = 0;
for (let i = 0; i < processes; i += 1) {
  const worker = cluster.fork();
  workers.push(worker);
  worker.once('listening', () => {
    listening += 1;
    if (listening === processes) process.send?.('ready');
  });
  worker.once('exit', (code) => {
    if (stopping) return;
    console.error(`API worker ${worker.process.pid} exited with ${code}`);
    process.exit(1);
  });
}

process.on('SIGTERM', () => {
  stopping = true;
  const alive = workers.filter((worker) => !worker.isDead());
  let running = alive.length;
  if (running === 0) process.exit(0);
  for (const worker of alive) {
    worker.once('exit', () => {
      running -= 1;
      if (running === 0) process.exit(0);
    });
    worker.process.kill('SIGTERM');
  }
});
