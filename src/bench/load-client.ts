import autocannon from 'autocannon';
import { upvoteRequest, type HttpRequestSpec, type ResultMessage, type RunMessage } from './load-clients';

/**
 * One load-generating process of `npm run bench` (started by load-clients.ts
 * with an IPC channel): on each `run` message it drives autocannon for the
 * given time and answers with every response's latency, so the parent can
 * merge exact percentiles over all its client processes.
 */
async function run(message: RunMessage): Promise<ResultMessage> {
  const { spec } = message;
  const host = new URL(message.url).host;
  let next = 0;
  const nextRequest = (): HttpRequestSpec => {
    const i = message.start + message.stride * next++;
    if (spec.kind === 'requests') return spec.requests[i % spec.requests.length]!;
    return upvoteRequest(spec.target, spec.tokens, spec.paperCount, spec.first + i);
  };
  let clean = 0;
  const latencies: number[] = [];
  let finish: (result: autocannon.Result) => void = () => {};
  let fail: (error: unknown) => void = () => {};
  const done = new Promise<autocannon.Result>((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });
  const instance = autocannon(
    {
      url: message.url,
      connections: message.connections,
      duration: message.durationSeconds,
      requests: [
        {
          // A request's own headers replace autocannon's defaults, Host included: put it back.
          setupRequest: () => {
            const built = nextRequest();
            return { ...built, headers: { host, ...built.headers } };
          },
          ...(spec.kind === 'upvotes'
            ? {
                onResponse: (status: number, body: string) => {
                  if (status >= 200 && status < 300 && !body.includes('"error')) clean += 1;
                },
              }
            : {}),
        },
      ],
    },
    (error, result) => (error ? fail(error) : finish(result)),
  );
  instance.on('response', (_client, _status, _bytes, responseTime) => latencies.push(responseTime));
  const result = await done;
  return { type: 'result', id: message.id, latencies, non2xx: result.non2xx, errors: result.errors, timeouts: result.timeouts, clean };
}

process.on('message', (message: RunMessage) => {
  if (message.type !== 'run') return;
  run(message).then(
    (result) => process.send!(result),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
});
process.on('disconnect', () => process.exit(0));
