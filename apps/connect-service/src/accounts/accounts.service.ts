import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { ServiceException } from '@app/common';
import { ConnectAccountEntity } from '@app/database';

@Injectable()
export class AccountsService {
  constructor(@InjectRepository(ConnectAccountEntity) private readonly accounts: Repository<ConnectAccountEntity>) {}

  async getByTenant(tenantId: string): Promise<ConnectAccountEntity> {
    const account = await this.accounts.findOneBy({ tenant_id: tenantId });
    if (!account) throw new ServiceException('CONNECT_030', `No connected account for tenant ${tenantId}`);
    return account;
  }
}
