import { Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { ApiScope } from '@app/api-keys';
import { UnauthenticatedError } from '../errors/api-error';
import { Credentials } from './credentials';
import { ScopeAccess } from './scope-access';
import { expiresIn, Signatures } from './signatures';

export const MAX_LINK_SECONDS = 24 * 3600;

/** What a browser may open: pages and files behind a key in the header or a session cookie, or a signed link; never a key in a URL. */
@Injectable()
export class BrowserAccess {
  constructor(
    private readonly credentials: Credentials,
    private readonly access: ScopeAccess,
    private readonly signatures: Signatures,
  ) {}

  require(request: FastifyRequest, scope: ApiScope, what: string): void {
    this.access.require(this.credentials.ofBrowserRequest(request), scope, what);
  }

  /** A download: its signed link if the request carries one (and nothing else is asked), else an admin key or session. */
  requireDownload(request: FastifyRequest, path: string, link: { expires?: string; signature?: string }): void {
    if (link.signature === undefined && link.expires === undefined)
      return this.require(request, 'admin', `GET ${path}`);
    if (!this.signatures.valid(path, Number(link.expires), link.signature ?? '')) {
      throw new UnauthenticatedError('Download link not valid or expired: ask for a new one (exportDownloadLink)');
    }
  }

  /** `path?expires=...&signature=...`, good for `seconds`. */
  signedLink(path: string, seconds: number): { url: string; expiresAt: Date } {
    const expires = expiresIn(seconds);
    const query = new URLSearchParams({ expires: String(expires), signature: this.signatures.sign(path, expires) });
    return { url: `${path}?${query.toString()}`, expiresAt: new Date(expires * 1000) };
  }
}
