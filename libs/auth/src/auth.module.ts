import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { PassportModule } from '@nestjs/passport';
import { AuthenticationGuard } from './guards/authentication.guard';
import { RolesGuard } from './guards/roles.guard';
import { ScopesGuard } from './guards/scopes.guard';
import { TenantGuard } from './guards/tenant.guard';
import { JwtStrategy } from './jwt.strategy';
import { KnownBearerTokens } from './known-bearer-tokens';

/**
 * Guards every route of the app: authentication, then role, then scope, then tenant (APP_GUARDs run in the
 * order they are provided). Needs `authConfig` from the global AppConfigModule. Routes opt out with `@Public()`.
 */
@Module({
  imports: [PassportModule],
  providers: [
    JwtStrategy,
    KnownBearerTokens,
    { provide: APP_GUARD, useClass: AuthenticationGuard },
    { provide: APP_GUARD, useClass: RolesGuard },
    { provide: APP_GUARD, useClass: ScopesGuard },
    { provide: APP_GUARD, useClass: TenantGuard },
  ],
  exports: [JwtStrategy, KnownBearerTokens],
})
export class AuthModule {}
