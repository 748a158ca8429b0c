import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { moneyConfig } from '@app/config';
import { EventsService } from '../events/events.service';
import { JobQueue } from '../queue/job-queue.service';
import { DisputesRepository } from './disputes.repository';
import { DISPUTE_REMINDER_QUEUE, DISPUTES_QUEUES } from './disputes.queues';
import { disputeEventData } from './disputes.service';

/**
 * connect.dispute.evidence_due at DISPUTE_EVIDENCE_REMINDER_HOURS before each open dispute's deadline: a scheduled
 * sweep claims each (dispute, offset) once in the same transaction as its ConnectEvent.
 */
@Injectable()
export class DisputeRemindersService implements OnApplicationBootstrap {
  private readonly logger = new Logger('DisputeReminders');

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(moneyConfig.KEY) private readonly cfg: ConfigType<typeof moneyConfig>,
    private readonly repo: DisputesRepository,
    private readonly events: EventsService,
    private readonly queue: JobQueue,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.queue.define(DISPUTES_QUEUES.reminders);
    await this.queue.schedule(DISPUTE_REMINDER_QUEUE, this.cfg.evidenceReminderCron);
    await this.queue.work(DISPUTE_REMINDER_QUEUE, { batchSize: 1 }, async () => {
      await this.run();
    });
  }

  /** Sends what is due now; answers how many reminders went out. */
  async run(): Promise<number> {
    let sent = 0;
    for (const hours of [...this.cfg.evidenceReminderHours].sort((x, y) => y - x)) {
      sent += await this.dataSource.transaction(async (m) => {
        const due = await this.repo.claimReminders(m, hours);
        for (const row of due) {
          await this.events.emit(m, {
            type: 'connect.dispute.evidence_due',
            tenant_id: row.tenant_id,
            data: { ...disputeEventData(row), hours_before_deadline: hours },
          });
        }
        return due.length;
      });
    }
    if (sent) this.logger.log(`sent ${sent} dispute evidence reminder(s)`);
    return sent;
  }
}
