import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import nodemailer from 'nodemailer';
import type { AppConfig } from '../config';

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  html: string;
  /**
   * Where a recipient stops this kind of mail: sent as List-Unsubscribe with
   * List-Unsubscribe-Post, so mail clients offer one-click unsubscribe (RFC 8058).
   */
  unsubscribeUrl?: string;
}

export interface Mailer {
  /** Resolves once the SMTP server accepted the message (or its .eml file is written). */
  send(message: MailMessage): Promise<void>;
  /** Closes the pooled SMTP connections; messages still being sent finish first. */
  close(): void;
}

/** The SMTP server refused this recipient: a matter of the address, not of the server or the message. */
export class RecipientRefusedError extends Error {
  constructor(message: string, options: ErrorOptions) {
    super(message, options);
    this.name = 'RecipientRefusedError';
  }
}

/** Where the outbox of a data directory is: mail goes there as .eml files when no SMTP server is configured. */
export const outboxDirectory = (dataDir: string) => path.resolve(dataDir, 'outbox');

/**
 * Mail through nodemailer: to the SMTP server of SMTP_URL (pooled, so a
 * digest run reuses its connections), or, without one, into
 * {dataDir}/outbox as one .eml file per message.
 */
export function createMailer(config: Pick<AppConfig, 'mail' | 'dataDir'>): Mailer {
  const { smtpUrl, from } = config.mail;
  if (smtpUrl) {
    // The URL's own query (e.g. ?pool=false) wins over these defaults.
    const transport = nodemailer.createTransport({ url: smtpUrl, pool: true }, { from });
    return {
      async send(message) {
        try {
          await transport.sendMail(mailOptions(message));
        } catch (error) {
          if (isRecipientRefusal(error)) {
            throw new RecipientRefusedError('the SMTP server refused the recipient', { cause: error });
          }
          throw error;
        }
      },
      close: () => transport.close(),
    };
  }

  const outbox = outboxDirectory(config.dataDir);
  mkdirSync(outbox, { recursive: true });
  const transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' }, { from });
  return {
    async send(message) {
      const { message: raw } = await transport.sendMail(mailOptions(message));
      // Named by time first, so a directory listing reads in sending order.
      const name = `${new Date().toISOString().replace(/[:.]/g, '-')}-${randomUUID()}.eml`;
      await writeFile(path.join(outbox, name), raw as Buffer);
    },
    close: () => transport.close(),
  };
}

function mailOptions({ to, subject, text, html, unsubscribeUrl }: MailMessage) {
  return {
    to,
    subject,
    text,
    html,
    ...(unsubscribeUrl && {
      list: { unsubscribe: unsubscribeUrl },
      headers: { 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' },
    }),
  };
}

/** nodemailer reports a refused recipient as an envelope error of the RCPT TO command. */
function isRecipientRefusal(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const { code, command } = error as Error & { code?: unknown; command?: unknown };
  return code === 'EENVELOPE' && command === 'RCPT TO';
}
