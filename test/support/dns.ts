import { createSocket, type Socket as UdpSocket } from 'node:dgram'

// A tiny DNS responder for tests: custom domains' TXT proofs, pebble's HTTP-01 address lookups.
export interface DnsRecords {
  readonly a: Map<string, string>
  readonly txt: Map<string, string>
}

/** Answers A and TXT questions from `records` (NXDOMAIN for unknown names, empty answers for other types). */
export async function startDns(records: DnsRecords): Promise<{ port: number; close(): void }> {
  const socket: UdpSocket = createSocket('udp4')
  socket.on('message', (msg, rinfo) => {
    try {
      socket.send(answer(msg, records), rinfo.port, rinfo.address)
    } catch {
      // a malformed question: no answer
    }
  })
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve))
  return { port: socket.address().port, close: () => socket.close() }
}

function answer(query: Buffer, records: DnsRecords): Buffer {
  let offset = 12
  const labels: string[] = []
  for (let len = query[offset] as number; len > 0; len = query[offset] as number) {
    labels.push(query.subarray(offset + 1, offset + 1 + len).toString('ascii'))
    offset += len + 1
  }
  offset += 1
  const qtype = query.readUInt16BE(offset)
  const question = query.subarray(12, offset + 4)
  const name = labels.join('.').toLowerCase()
  const known = records.a.has(name) || records.txt.has(name)
  const answers: Buffer[] = []
  const rr = (type: number, data: Buffer): Buffer => {
    const head = Buffer.alloc(12)
    head.writeUInt16BE(0xc00c, 0)
    head.writeUInt16BE(type, 2)
    head.writeUInt16BE(1, 4)
    head.writeUInt32BE(0, 6)
    head.writeUInt16BE(data.length, 10)
    return Buffer.concat([head, data])
  }
  const a = records.a.get(name)
  if (qtype === 1 && a) answers.push(rr(1, Buffer.from(a.split('.').map(Number))))
  const txt = records.txt.get(name)
  if (qtype === 16 && txt) answers.push(rr(16, Buffer.concat([Buffer.from([txt.length]), Buffer.from(txt)])))
  const header = Buffer.alloc(12)
  query.copy(header, 0, 0, 2)
  header.writeUInt16BE(0x8180 | (known ? 0 : 3), 2)
  header.writeUInt16BE(1, 4)
  header.writeUInt16BE(answers.length, 6)
  return Buffer.concat([header, question, ...answers])
}
