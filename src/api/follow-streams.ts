import { PassThrough } from 'node:stream'
import type { FastifyInstance, FastifyRequest } from 'fastify'

/**
 * Answers that follow something (a log) until the client goes. The function returned runs `start` with the
 * answer's stream (it writes what is kept so far, then what comes) and ends the following — `start`'s stop
 * function — when the client disconnects or the stream closes. Every open one is ended when the API closes: they
 * never end by themselves, and closing would wait for them forever.
 */
export function followStreams(
  app: FastifyInstance,
): (request: FastifyRequest, start: (out: PassThrough) => Promise<() => void>) => Promise<PassThrough> {
  const streams = new Set<PassThrough>()
  app.addHook('preClose', (done) => {
    for (const s of streams) s.end()
    done()
  })
  return async (request, start) => {
    const out = new PassThrough()
    const stop = await start(out)
    streams.add(out)
    let ended = false
    const end = (): void => {
      if (ended) return
      ended = true
      streams.delete(out)
      stop()
      out.end()
    }
    out.once('close', end)
    // The client may have gone while `start` gathered what is kept: its 'close' has fired already then.
    if (request.raw.destroyed) end()
    else request.raw.once('close', end)
    return out
  }
}
