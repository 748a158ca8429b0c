import type { EntityManager } from 'typeorm';
import type { ConnectAccountEntity } from '@app/database';
import type { CreateOnboardingLinkDto, OnboardingLinkDto } from './dto/onboarding-link.dto';
import type { UpdateAccountDto } from './dto/update-account.dto';

type Mark = { id: string; created: number };

/** What AccountsService hands to Accounts v2 for v2 rows (AccountsV2Service registers itself at boot). */
export interface AccountsV2Hooks {
  refresh(
    manager: EntityManager,
    tenantId: string,
    stripeAccountId: string,
    event?: Mark,
    isStale?: (last: { created: number | null; id: string | null }, e: Mark) => boolean,
  ): Promise<ConnectAccountEntity | null>;
  refreshView(row: ConnectAccountEntity): Promise<string>;
  afterV1Apply(
    manager: EntityManager,
    before: ConnectAccountEntity,
    after: ConnectAccountEntity,
  ): Promise<void>;
  onboardingLink(row: ConnectAccountEntity, dto: CreateOnboardingLinkDto): Promise<OnboardingLinkDto>;
  update(row: ConnectAccountEntity, dto: UpdateAccountDto): Promise<unknown>;
  close(row: ConnectAccountEntity): Promise<void>;
}
