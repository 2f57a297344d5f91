import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import nodemailer from 'nodemailer'
import { newId } from '../shared/ids.js'

export interface Mail {
  readonly to: string
  readonly subject: string
  readonly text: string
}

export interface Mailer {
  send(mail: Mail): Promise<void>
}

export interface MailerOptions {
  /** smtp://… or smtps://…; without it mails are written as .eml files to `outboxDir`. */
  readonly smtpUrl: string | undefined
  readonly outboxDir: string
  readonly from?: string
}

/**
 * Sends mail with nodemailer over SMTP, or writes RFC 5322 files to `<data>/outbox/` (0600) when no
 * SMTP server is configured, so a single-node install can still hand invitation links over.
 */
export function createMailer(options: MailerOptions): Mailer {
  const from = options.from ?? 'Palisade <palisade@localhost>'
  if (options.smtpUrl) {
    const transport = nodemailer.createTransport(options.smtpUrl)
    return {
      async send(mail) {
        await transport.sendMail({ from, to: mail.to, subject: mail.subject, text: mail.text })
      },
    }
  }
  const transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' })
  return {
    async send(mail) {
      const info = await transport.sendMail({ from, to: mail.to, subject: mail.subject, text: mail.text })
      mkdirSync(options.outboxDir, { recursive: true, mode: 0o700 })
      writeFileSync(path.join(options.outboxDir, `${newId('mail')}.eml`), info.message as Buffer, {
        mode: 0o600,
      })
    },
  }
}
