import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { createRequire } from 'node:module'
import type nodemailerModule from 'nodemailer'
import type { Transporter } from 'nodemailer'
import type StreamTransport from 'nodemailer/lib/stream-transport/index.js'
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
  // nodemailer is required at the first mail rather than at start: it adds ~90 ms to every start-up otherwise.
  const nodemailer = (): typeof nodemailerModule =>
    createRequire(import.meta.url)('nodemailer') as typeof nodemailerModule
  if (options.smtpUrl) {
    const smtpUrl = options.smtpUrl
    let smtp: Transporter | undefined
    return {
      async send(mail) {
        smtp ??= nodemailer().createTransport(smtpUrl)
        await smtp.sendMail({ from, to: mail.to, subject: mail.subject, text: mail.text })
      },
    }
  }
  let files: Transporter<StreamTransport.SentMessageInfo> | undefined
  return {
    async send(mail) {
      files ??= nodemailer().createTransport({ streamTransport: true, buffer: true, newline: 'unix' })
      const info = await files.sendMail({ from, to: mail.to, subject: mail.subject, text: mail.text })
      mkdirSync(options.outboxDir, { recursive: true, mode: 0o700 })
      writeFileSync(path.join(options.outboxDir, `${newId('mail')}.eml`), info.message as Buffer, {
        mode: 0o600,
      })
    },
  }
}
