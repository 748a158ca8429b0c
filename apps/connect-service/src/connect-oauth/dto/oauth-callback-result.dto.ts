import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ConnectAccountDto } from '../../accounts/dto/connect-account.dto';

export type OAuthCallbackOutcome = 'connected' | 'declined' | 'conflict' | 'failed' | 'invalid_state';

/** The JSON answer of a successful callback (`Accept: application/json`, or no OAUTH_SUCCESS_URL configured). */
export class OAuthCallbackResultDto {
  @ApiProperty({ example: 'connected', enum: ['connected'] })
  outcome!: 'connected';

  @ApiProperty({ example: 'tenant_acme' })
  tenant_id!: string;

  @ApiPropertyOptional({ type: ConnectAccountDto })
  account!: ConnectAccountDto;
}
