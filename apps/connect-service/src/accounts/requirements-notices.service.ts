import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { accountsV2Config } from '@app/config';
import { ConnectAccountEntity, RequirementEntry } from '@app/database';
import { EventsService } from '../events/events.service';
import { JobQueue } from '../queue/job-queue.service';
import { ACCOUNTS_QUEUES, REQUIREMENTS_REMINDER_QUEUE, ReminderJob } from './accounts.queues';
import { ConnectAccountsRepository } from './connect-accounts.repository';
import { RequirementNoticesRepository } from './requirement-notices.repository';
import { dueEntries } from './requirements-entries';

/** What the account looked like before a change, for the notices a change causes. */
export interface RequirementsSnapshot {
  capabilities: Record<string, string>;
  requirement_entries: RequirementEntry[];
}

/** How the tenant resolves requirements: a link for Stripe-hosted forms, or embedded components in its own pages. */
function remedyOf(tenantId: string, detailsSubmitted: boolean) {
  return {
    account_link: {
      endpoint: `POST /connect/accounts/${tenantId}/onboarding`,
      use_case: detailsSubmitted ? 'account_update' : 'account_onboarding',
    },
    embedded: {
      endpoint: `POST /connect/accounts/${tenantId}/sessions`,
      components: ['account_onboarding', 'notification_banner'],
    },
  };
}

/**
 * Requirements reaching the tenant in time: `requirements_due` when an account gains requirements, `restricted`
 * when a capability stops being active, `requirements_cleared` when nothing is due (all in the transaction of the
 * change), and `requirements_reminder` at each REQUIREMENTS_REMINDER_OFFSETS before a deadline, claimed once per
 * (requirement, deadline, offset) in requirement_notices with its ConnectEvent, whichever replica runs the job.
 */
@Injectable()
export class RequirementNoticesService implements OnApplicationBootstrap {
  private readonly logger = new Logger('Requirements');

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly events: EventsService,
    private readonly jobs: JobQueue,
    private readonly notices: RequirementNoticesRepository,
    private readonly accounts: ConnectAccountsRepository,
    @Inject(accountsV2Config.KEY) private readonly cfg: ConfigType<typeof accountsV2Config>,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.jobs.define(ACCOUNTS_QUEUES.requirementsReminder);
    await this.jobs.work<ReminderJob>(REQUIREMENTS_REMINDER_QUEUE, { concurrency: 1 }, async (job) => {
      await this.runReminders(job.data.tenantId);
    });
    // The sweep catches reminders whose delayed job was lost (a deadline moved, a restore): once a minute.
    await this.jobs.schedule(REQUIREMENTS_REMINDER_QUEUE, '* * * * *', {});
  }

  /** Called in the transaction that wrote the account's new state. */
  async onApplied(
    manager: EntityManager,
    before: RequirementsSnapshot,
    after: ConnectAccountEntity,
  ): Promise<void> {
    const tenantId = after.tenant_id;
    const base = { stripe_account_id: after.stripe_account_id, api_version: after.api_version };
    const wasDue = new Set(dueEntries(before.requirement_entries).map((e) => e.field));
    const due = dueEntries(after.requirement_entries);
    const gained = due.filter((e) => !wasDue.has(e.field));
    if (gained.length) {
      const deadlines = gained.filter((e) => e.deadline).map((e) => e.deadline!);
      await this.events.emit(manager, {
        type: 'connect.account.requirements_due',
        tenant_id: tenantId,
        data: {
          ...base,
          fields: gained.map((e) => e.field),
          entries: gained,
          deadline: deadlines.sort()[0] ?? null,
          restricts: [...new Set(gained.flatMap((e) => e.restricts))].sort(),
          remedy: remedyOf(tenantId, after.details_submitted),
        },
      });
    }
    const lost = Object.entries(before.capabilities ?? {})
      .filter(([name, state]) => state === 'active' && after.capabilities?.[name] !== 'active')
      .map(([name]) => name)
      .sort();
    if (lost.length) {
      await this.events.emit(manager, {
        type: 'connect.account.restricted',
        tenant_id: tenantId,
        data: {
          ...base,
          status: after.status,
          capabilities: lost,
          capability_states: after.capabilities,
          reason:
            after.requirements?.disabled_reason ??
            (due.some((e) => e.due === 'past_due') ? 'requirements.past_due' : null),
          past_due: due.filter((e) => e.due === 'past_due').map((e) => e.field),
          remedy: remedyOf(tenantId, after.details_submitted),
        },
      });
    }
    if (wasDue.size && !due.length) {
      await this.events.emit(manager, {
        type: 'connect.account.requirements_cleared',
        tenant_id: tenantId,
        data: { ...base, status: after.status, cleared: [...wasDue].sort() },
      });
    }
    await this.scheduleReminders(manager, tenantId, due);
  }

  /** One delayed job per distinct reminder time still ahead; the job claims what is due when it runs. */
  private async scheduleReminders(manager: EntityManager, tenantId: string, due: RequirementEntry[]) {
    const now = Date.now();
    const times = new Set<number>();
    for (const entry of due) {
      if (!entry.deadline) continue;
      const deadline = Date.parse(entry.deadline);
      if (deadline <= now) continue;
      for (const offset of this.cfg.reminderOffsets) {
        times.add(Math.max(0, Math.ceil((deadline - offset.seconds * 1000 - now) / 1000)));
      }
    }
    for (const seconds of times) {
      await this.jobs.send<ReminderJob>(
        REQUIREMENTS_REMINDER_QUEUE,
        { tenantId },
        { manager, ...(seconds > 0 ? { startAfterSeconds: seconds } : {}) },
      );
    }
  }

  /** Sends every reminder that is due and unclaimed, for one tenant or for all accounts near a deadline. */
  async runReminders(tenantId?: string): Promise<number> {
    const tenants = tenantId
      ? [tenantId]
      : (
          await this.accounts.reminderCandidates(this.dataSource, this.cfg.reminderOffsets[0]?.seconds ?? 0)
        ).map((r) => r.tenant_id);
    let sent = 0;
    for (const tenant of tenants) sent += await this.remindTenant(tenant);
    return sent;
  }

  private remindTenant(tenantId: string): Promise<number> {
    return this.dataSource.transaction(async (m) => {
      const row = await m.getRepository(ConnectAccountEntity).findOneBy({ tenant_id: tenantId });
      if (!row || row.disconnected_at) return 0;
      const now = Date.now();
      // Fields grouped per (deadline, offset): one event names every field of the group it claimed.
      const groups = new Map<string, { deadline: string; offset: string; entries: RequirementEntry[] }>();
      for (const entry of dueEntries(row.requirement_entries)) {
        if (!entry.deadline || Date.parse(entry.deadline) <= now) continue;
        for (const offset of this.cfg.reminderOffsets) {
          if (now < Date.parse(entry.deadline) - offset.seconds * 1000) continue;
          const key = `${entry.deadline}|${offset.label}`;
          const group = groups.get(key) ?? { deadline: entry.deadline, offset: offset.label, entries: [] };
          group.entries.push(entry);
          groups.set(key, group);
        }
      }
      let sent = 0;
      for (const group of groups.values()) {
        const claimed: RequirementEntry[] = [];
        for (const entry of group.entries) {
          const key = {
            tenantId,
            stripeAccountId: row.stripe_account_id,
            field: entry.field,
            deadline: new Date(group.deadline),
            offset: group.offset,
          };
          if (await this.notices.claim(m, key)) claimed.push(entry);
        }
        if (!claimed.length) continue;
        const { id } = await this.events.emit(m, {
          type: 'connect.account.requirements_reminder',
          tenant_id: tenantId,
          data: {
            stripe_account_id: row.stripe_account_id,
            deadline: group.deadline,
            offset: group.offset,
            fields: claimed.map((e) => e.field),
            entries: claimed,
            restricts: [...new Set(claimed.flatMap((e) => e.restricts))].sort(),
            remedy: remedyOf(tenantId, row.details_submitted),
          },
        });
        await this.notices.attachEvent(m, tenantId, row.stripe_account_id, group, claimed, id);
        sent++;
      }
      if (sent) this.logger.log(`${sent} requirement reminder(s) for ${tenantId}`);
      return sent;
    });
  }
}
