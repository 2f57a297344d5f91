// A tiny web app for the Palisade tour. Palisade sets PORT; GREETING is an environment variable you can set.
const http = require('node:http')

const port = Number(process.env.PORT || 3000)
const greeting = process.env.GREETING || 'Hello from Palisade'

const server = http.createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' })
  res.end(`${greeting}\n`)
})

server.listen(port, () => console.log(`node-hello listening on ${port}`))

// Finish in-flight requests on SIGTERM (Palisade stops old releases this way after a deploy).
process.on('SIGTERM', () => {
  server.close(() => process.exit(0))
  server.closeIdleConnections()
})
