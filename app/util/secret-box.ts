/**
 * Secrets kept so they can be used again (webhook signing secrets), sealed at rest with AES-256-GCM under a key
 * from the environment (WEBHOOK_SECRET_KEY: 32 bytes, hex or base64). Sealed values read `enc:v1:<iv>:<tag>:<data>`
 * (base64url); without a key they are stored `plain:<secret>`, and a key set later still reads those. A sealed value
 * without the key, or under another key, does not open: that is an error, never a silent wrong secret.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

export class SecretBox {
  private constructor(private readonly key: Buffer | undefined) {}

  /** `keyText`: the WEBHOOK_SECRET_KEY value, or undefined to store secrets unsealed. */
  static fromKey(keyText: string | undefined): SecretBox {
    if (!keyText) return new SecretBox(undefined);
    const key = /^[0-9a-fA-F]{64}$/.test(keyText) ? Buffer.from(keyText, 'hex') : Buffer.from(keyText, 'base64');
    if (key.length !== 32) throw new Error('the secret key must be 32 bytes (64 hex digits or base64)');
    return new SecretBox(key);
  }

  get sealing(): boolean {
    return this.key !== undefined;
  }

  seal(secret: string): string {
    if (!this.key) return `plain:${secret}`;
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const data = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
    return `enc:v1:${iv.toString('base64url')}:${cipher.getAuthTag().toString('base64url')}:${data.toString('base64url')}`;
  }

  open(stored: string): string {
    if (stored.startsWith('plain:')) return stored.slice('plain:'.length);
    const m = /^enc:v1:([A-Za-z0-9_-]+):([A-Za-z0-9_-]+):([A-Za-z0-9_-]*)$/.exec(stored);
    if (!m) throw new Error('not a stored secret');
    if (!this.key) throw new Error('a sealed secret needs WEBHOOK_SECRET_KEY to open');
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(m[1]!, 'base64url'));
    decipher.setAuthTag(Buffer.from(m[2]!, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(m[3]!, 'base64url')), decipher.final()]).toString('utf8');
  }
}
