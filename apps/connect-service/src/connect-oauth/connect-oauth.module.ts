import { Module } from '@nestjs/common';
import { CryptoModule } from '@app/common';
import { DatabaseModule } from '@app/database';
import { AccountsModule } from '../accounts/accounts.module';
import { AuditModule } from '../audit/audit.module';
import { EventsModule } from '../events/events.module';
import { StripeModule } from '../stripe/stripe.module';
import { ConnectOAuthController } from './connect-oauth.controller';
import { ConnectOAuthService } from './connect-oauth.service';
import { OAuthStatesRepository } from './oauth-states.repository';

@Module({
  imports: [DatabaseModule, CryptoModule, StripeModule, EventsModule, AuditModule, AccountsModule],
  controllers: [ConnectOAuthController],
  providers: [ConnectOAuthService, OAuthStatesRepository],
})
export class ConnectOAuthModule {}
