// A fixed small JSON answer, as the edge benchmark's upstream.
import { createServer } from 'node:http'
const body = '{"ok":true,"service":"bench-upstream","padding":"0123456789abcdef0123456789abcdef"}'
createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(body.length) })
  res.end(body)
}).listen(Number(process.argv[2]), '127.0.0.1', () => console.log('upstream up'))
