import type { LoggerService } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { parseRequestOrigin } from '../../core/origin.js';
import type { ICorsPolicyService } from '../../identity/cors-policy-service.interface.js';
import { CorsClientOriginEntity } from './cors-client.entity.js';

/**
 * Allows an origin listed by any enabled client in the database (IdentityServer's EF CorsPolicyService),
 * with one indexed query. Wrap it in CachingCorsPolicyService so most requests never reach the database.
 */
export class TypeOrmCorsPolicyService implements ICorsPolicyService {
  /** `_logger`: kept for callers that pass one; the service logs nothing per decision. */
  constructor(
    private readonly dataSource: DataSource,
    _logger?: LoggerService,
  ) {}

  /** Logs nothing per decision: the CORS handler logs each denial once, rate-limited, with its reason (RULES 21). */
  async isOriginAllowed(origin: string): Promise<boolean> {
    const serialized = parseRequestOrigin(origin);
    if (serialized === undefined) return false;
    // SELECT 1 FROM cors_client_origins o JOIN cors_clients c ON … WHERE o.origin = $1 AND c.enabled LIMIT 1
    const hit = await this.dataSource
      .createQueryBuilder(CorsClientOriginEntity, 'o')
      .select('1', 'hit')
      .innerJoin('o.client', 'c')
      .where('o.origin = :origin', { origin: serialized })
      .andWhere('c.enabled = :enabled', { enabled: true })
      .limit(1)
      .getRawOne<{ hit: number }>();
    return hit != null;
  }
}
