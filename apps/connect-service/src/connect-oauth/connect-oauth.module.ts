import { Module } from '@nestjs/common';
import { AccountsModule } from '../accounts/accounts.module';
import { ConnectOAuthController } from './connect-oauth.controller';
import { ConnectOAuthService } from './connect-oauth.service';

@Module({
  imports: [AccountsModule],
  controllers: [ConnectOAuthController],
  providers: [ConnectOAuthService],
})
export class ConnectOAuthModule {}
